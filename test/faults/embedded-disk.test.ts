// The embedded database's disk: full, or read-only. igny8 refuses with exit 4 naming the cause
// and writes nothing; once there is room again the same command works and the ledger adds up.
// A small tmpfs stands in for the disk: mounting one needs root. Where this process cannot
// mount, these tests are skipped and say so (file permissions alone cannot make a directory
// read-only or full for root).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mountPoint = mkdtempSync(path.join(tmpdir(), 'igny8-disk-'));
const mounted = tryMount(mountPoint, '80M');
if (!mounted) console.warn('\n*** NOTICE: cannot mount a tmpfs here (not root): the disk-full and read-only tests are SKIPPED ***\n');

describe.skipIf(!mounted)('the embedded database on a full or read-only disk', () => {
  const env = { IGNY8_DATA_DIR: path.join(mountPoint, 'db') };
  const filler = path.join(mountPoint, 'filler');

  beforeAll(async () => {
    expect((await runCli(['migrate'], { env })).code).toBe(0);
    expect((await runCli(['catalog', 'sync'], { env })).code).toBe(0);
    expect((await runCli(['register', '--email', 'disk@example.com', '--password-stdin', '--account-name', 'disk', '--plan', 'free'], { env, input: 'Sup3r-Secret-Pa55' })).code).toBe(0);
  }, 120_000);
  afterAll(() => {
    try {
      execFileSync('umount', [mountPoint]);
    } finally {
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  it('full: exit 4 naming the full disk, nothing written; with room again the grant lands once', async () => {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
    } catch {
      // dd stops with an error when the disk is full: that is the point.
    }
    const refused = await runCli(['grant-credits', '--account', 'disk', '--amount', '5', '--reason', 'full'], { env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/cannot open the embedded database in .*: the file system holding it is full/);
    rmSync(filler);
    const granted = await runCli(['--json', 'grant-credits', '--account', 'disk', '--amount', '5', '--reason', 'room again'], { env });
    expect(granted.code).toBe(0);
    expect(JSON.parse(granted.stdout).balance).toBe(1005);
    const audit = await runCli(['--json', 'audit', '--check', 'credit-balance-drift,ledger-chain-broken'], { env });
    expect(JSON.parse(audit.stdout).checks.map((check: { count: number }) => check.count)).toEqual([0, 0]);
  });

  it('read-only: exit 4 naming the read-only file system; writable again, it works', async () => {
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    try {
      for (const args of [['audit'], ['grant-credits', '--account', 'disk', '--amount', '1', '--reason', 'ro']]) {
        const refused = await runCli(args, { env });
        expect(refused.code).toBe(4);
        expect(refused.stderr).toMatch(/cannot open the embedded database in .*: it is on a read-only file system/);
      }
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
    expect((await runCli(['audit'], { env })).code).toBe(0);
    writeFileSync(path.join(mountPoint, 'probe'), 'ok');
  });
});
