// The embedded database's directory lock: one holder at a time among many processes started
// together, with or without a dead owner's lock in the way; a killed holder never blocks for
// good; a live holder makes the next process wait and say so.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, lockPath } from '../../src/db/data-dir-lock.js';
import { DatabaseUnavailable } from '../../src/errors.js';

const HOLDER = fileURLToPath(new URL('../helpers/lock-holder.mjs', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'igny8-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let serial = 0;
function freshDataDir(): string {
  return path.join(root, `case-${++serial}`, 'db');
}

function holder(dataDir: string, log: string, holdMs: number, mode?: 'hang') {
  return spawn(process.execPath, [HOLDER, dataDir, log, String(holdMs), ...(mode ? [mode] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ReturnType<typeof holder>): Promise<number | null> {
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

/** A pid that no process has now: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid as number;
}

/** The holds in the log, checked to never overlap: every hold is followed by its own free. */
function holdsInOrder(log: string): string[] {
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const holders: string[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const [hold, pid] = lines[i]!.split(' ');
    expect(hold).toBe('hold');
    expect(lines[i + 1]).toBe(`free ${pid}`);
    holders.push(pid!);
  }
  return holders;
}

function plantDeadOwner(dataDir: string): void {
  const lock = lockPath(dataDir);
  mkdirSync(lock, { recursive: true });
  writeFileSync(path.join(lock, `${deadPid()}--0badc0de`), '');
}

describe('embedded database lock', () => {
  it('30 rounds of 10 processes started together: never two holders at once', async () => {
    for (let round = 0; round < 30; round++) {
      const dataDir = freshDataDir();
      mkdirSync(path.dirname(dataDir), { recursive: true });
      if (round % 2 === 1) plantDeadOwner(dataDir); // half the rounds start from a stale lock
      const log = path.join(path.dirname(dataDir), 'log');
      writeFileSync(log, '');
      const children = Array.from({ length: 10 }, () => holder(dataDir, log, 5));
      const codes = await Promise.all(children.map(exited));
      expect(codes).toEqual(Array(10).fill(0));
      const holders = holdsInOrder(log);
      expect(new Set(holders).size).toBe(10);
      expect(existsSync(lockPath(dataDir))).toBe(false);
    }
  }, 240_000);

  it("takes over a dead owner's lock at once", async () => {
    const dataDir = freshDataDir();
    plantDeadOwner(dataDir);
    const lock = await acquireDataDirLock(dataDir, { waitMs: 2_000 });
    lock.release();
    expect(existsSync(lockPath(dataDir))).toBe(false);
  });

  it('takes over the plain pid file an older igny8 left', async () => {
    const dataDir = freshDataDir();
    mkdirSync(path.dirname(dataDir), { recursive: true });
    writeFileSync(lockPath(dataDir), String(deadPid()));
    const lock = await acquireDataDirLock(dataDir, { waitMs: 2_000 });
    lock.release();
    expect(existsSync(lockPath(dataDir))).toBe(false);
  });

  it.runIf(existsSync('/proc/self/stat'))('a reused pid does not keep a dead owner alive', async () => {
    const dataDir = freshDataDir();
    const lock = lockPath(dataDir);
    mkdirSync(lock, { recursive: true });
    // This test's own pid is alive, but it did not start at time 1: the owner is gone.
    writeFileSync(path.join(lock, `${process.pid}-1-0badc0de`), '');
    (await acquireDataDirLock(dataDir, { waitMs: 2_000 })).release();
    expect(existsSync(lock)).toBe(false);
  });

  it('a holder killed with SIGKILL is taken over by the next process', async () => {
    const dataDir = freshDataDir();
    mkdirSync(path.dirname(dataDir), { recursive: true });
    const log = path.join(path.dirname(dataDir), 'log');
    const hung = holder(dataDir, log, 0, 'hang');
    await new Promise((resolve) => hung.stdout.once('data', resolve));
    hung.kill('SIGKILL');
    await exited(hung);
    const next = await acquireDataDirLock(dataDir, { waitMs: 5_000 });
    next.release();
    expect(readFileSync(log, 'utf8').trim()).toBe(`hold ${hung.pid}`);
  });

  it('a live holder makes the next process wait, say so, and give up only at its deadline', async () => {
    const dataDir = freshDataDir();
    mkdirSync(path.dirname(dataDir), { recursive: true });
    const hung = holder(dataDir, path.join(path.dirname(dataDir), 'log'), 0, 'hang');
    try {
      await new Promise((resolve) => hung.stdout.once('data', resolve));
      const notices: string[] = [];
      const waiting = acquireDataDirLock(dataDir, { waitMs: 600, noticeAfterMs: 50, onWait: (m) => notices.push(m) });
      await expect(waiting).rejects.toBeInstanceOf(DatabaseUnavailable);
      await expect(waiting).rejects.toThrow(`in use by igny8 process ${hung.pid}`);
      expect(notices).toEqual([`waiting for the embedded database in ${dataDir}: it is in use by igny8 process ${hung.pid}`]);
    } finally {
      hung.kill('SIGKILL');
      await exited(hung);
    }
    // Once the holder is gone the directory is free again, and no staging directory is left.
    (await acquireDataDirLock(dataDir, { waitMs: 2_000 })).release();
    const siblings = (await import('node:fs')).readdirSync(path.dirname(dataDir));
    expect(siblings.filter((name) => name.includes('.igny8.lock'))).toEqual([]);
  });
});
