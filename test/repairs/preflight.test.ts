// What `repair --all --yes` needs is known before it writes: the plan lists it, and a run
// without the secret key refuses before the first repair instead of stopping half-way.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';

describeOnServer('repair preflight on a server', () => {
  let t: TestDatabase;
  let env: Record<string, string | undefined>;

  async function repairLogRows(): Promise<number> {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      return Number((await client.query('select count(*) as n from igny8_repair_log')).rows[0].n);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    env = { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: undefined };
    expect((await runCli(['seed', 'legacy', '--accounts', '2000', '--seed', '5'], { env })).code).toBe(0);
    // The first run adds the repair log and stops at the first gate; it needs the key, since a
    // pending migration (the WordPress move) will encrypt.
    const first = await runCli(['migrate'], { env: { ...env, IGNY8_SECRET_KEY: 'c'.repeat(64) } });
    expect(first.code).toBe(3);
  }, 120_000);
  afterAll(() => t.drop());

  it('the plan says what --yes will need, and which of it is missing', async () => {
    const plan = await runCli(['repair', '--all'], { env });
    expect(plan.code).toBe(0);
    const text = plan.stdout.replace(/\s+/g, ' '); // lines are wrapped to the output width
    expect(text).toMatch(/--yes will need:/);
    expect(text).toMatch(/IGNY8_SECRET_KEY \(or IGNY8_SECRET_KEY_FILE\) \(plaintext-credentials, to encrypt the credentials it moves\): missing: --yes refuses/);
    expect(text).toMatch(/--default-industry SLUG \(site-industry-null, .*\): not given/);
  });

  it('--yes without the key refuses before the first write', async () => {
    const refused = await runCli(['repair', '--all', '--yes'], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/repair --yes needs what is not given; nothing was written/);
    expect(refused.stderr).toMatch(/plaintext-credentials \(\d+ rows\): IGNY8_SECRET_KEY/);
    expect(await repairLogRows()).toBe(0);
  });

  it('IGNY8_SECRET_KEY_FILE gives the key from a file, and the run completes', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'igny8-key-')), 'key');
    writeFileSync(file, `${'b'.repeat(64)}\n`, { mode: 0o600 });
    const applied = await runCli(['repair', '--all', '--yes'], { env: { ...env, IGNY8_SECRET_KEY_FILE: file } });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/plaintext-credentials: repaired \d+ rows/);
    expect(await repairLogRows()).toBeGreaterThan(0);
  });
});
