// Ctrl-C and a stop request: what is open is rolled back, the command says what was applied
// and what was not, and the exit code is 130 (SIGINT) or 143 (SIGTERM).
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { createTestDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';

const KEY = 'a'.repeat(64);

/** Starts igny8 and sends `signal` once stdout shows `when`; resolves with what it printed. */
function interruptWhen(args: string[], env: Record<string, string>, when: RegExp, signal: NodeJS.Signals) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (!sent && when.test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function appliedMigrations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('select name from igny8_migrations order by name')).rows.map((row) => row.name as string);
  } finally {
    await client.end();
  }
}

describeOnServer('interrupting a migration run', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const t of databases) await t.drop();
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s after the first migration: exit %i, the one in progress rolled back, the rerun finishes', async (signal, code) => {
    const t = await createTestDatabase('postgres');
    databases.push(t);
    const env = { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: KEY };
    // Enough data that each migration takes a moment; no defects, so the chain can finish.
    expect((await runCli(['seed', 'legacy', '--accounts', '20000', '--defect-rate', '0', '--seed', '3'], { env })).code).toBe(0);
    const before = await appliedMigrations(t.url!);
    const result = await interruptWhen(['migrate'], env, /✓ \S+ {2}applied/, signal);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(new RegExp(`interrupted by ${signal}: the transaction in progress is rolled back`));
    const applied = (await appliedMigrations(t.url!)).filter((name) => !before.includes(name));
    // What it says it applied is exactly what the database has; the rest waits for the rerun.
    const said = /applied before the interruption: (.*)/.exec(result.stderr)?.[1] ?? '';
    expect(said.split(', ')).toEqual(applied);
    expect(applied.length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/rolled back: \d{4}_\w+ \(it was in progress\)/);
    const rerun = await runCli(['migrate'], { env });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/0030_invoice_number_sequence {2}applied/);
  }, 120_000);
});
