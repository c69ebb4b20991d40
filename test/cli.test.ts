import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('igny8 as a child process', () => {
  it('exits 2 on an unknown flag, naming it', async () => {
    const result = await runCli(['migrate', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it('exits 2 on an unknown command', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command/);
  });

  it('exits 4 with one clear line when the server is unreachable, never printing the URL password', async () => {
    const result = await runCli(['migrate', 'status', '--database-url', 'postgres://ops:Hunter2-Url-Pass@127.0.0.1:1/prod']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/cannot connect to prod on 127\.0\.0\.1:1 as ops/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 4 when DATABASE_URL names a database that does not exist', async () => {
    const result = await runCli(['migrate', 'status'], {
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/igny8_no_such_database' },
    });
    expect(result.code).toBe(4);
  });

  it('prints the exit codes in --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Exit codes:/);
    expect(result.stdout).toMatch(/70 {2}internal error/);
  });

  it('migrates a fresh embedded database and reports status as JSON', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'igny8-cli-')), 'db');
    const env = { IGNY8_DATA_DIR: dataDir };
    const migrated = await runCli(['migrate'], { env });
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/0001_legacy_baseline {2}applied/);
    const status = await runCli(['--json', 'migrate', 'status'], { env });
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { migrations: Array<{ name: string; state: string }> };
    expect(parsed.migrations.find((m) => m.name === '0001_legacy_baseline')?.state).toBe('applied');
  });
});
