// `igny8 demo` as a new user runs it (`npx igny8 demo`): a child process, in a directory of
// its own, never touching ./.igny8 or DATABASE_URL, explaining each step, finishing clean.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('igny8 demo', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'igny8-demo-test-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('walks legacy data → audit → migrate (refused) → repair → migrate → clean audit, and exits 0', async () => {
    // A DATABASE_URL that would fail if it were used: the demo must never touch it.
    const result = await runCli(['demo'], {
      cwd,
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/not-yours', IGNY8_DATA_DIR: undefined },
      timeoutMs: 90_000,
    });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const steps = [
      /^1\. seed a legacy database$/m,
      /^2\. audit: what is wrong$/m,
      /^3\. migrate: refuses to build on bad data$/m,
      /^4\. repair --all --yes.*: fix what can be fixed safely$/m,
      /^5\. migrate again: the target schema$/m,
      /^6\. audit again: clean$/m,
    ];
    for (const step of steps) expect(result.stdout).toMatch(step);
    expect(result.stdout).toMatch(/exit code 1: CI would stop here/);
    expect(result.stdout).toMatch(/stopped at 0008_users_account_not_null, which changed nothing/);
    expect(result.stdout).toContain('igny8 repair orphan-users');
    expect(result.stdout).toMatch(/0 with findings \(0 error rows, 0 warning rows\)[\s\S]*exit code 0/);
    expect(result.stdout).toContain('The demo database was removed.');
    expect(existsSync(path.join(cwd, '.igny8'))).toBe(false);
  }, 120_000);

  it('refuses --database-url: the demo only ever uses a database of its own', async () => {
    const result = await runCli(['--database-url', 'postgres://postgres@127.0.0.1:5432/postgres', 'demo'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('throwaway embedded database of its own');
  });
});
