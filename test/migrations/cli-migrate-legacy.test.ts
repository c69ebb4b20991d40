// `igny8 migrate` on a legacy database, as a user runs it: exit 3 naming the repair while a
// precondition fails; on the embedded database a missing key is generated once (mode 0600)
// and announced, and a dry run leaves none behind; on a server a missing key is refused. No secret reaches the output.
import { existsSync, statSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connect.js';
import { decryptSecret, loadSecretKey, secretKeyFile } from '../../src/crypto/index.js';
import { runCli, stderrBesidesDatabase } from '../helpers/cli.js';
import { createTestDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, LEGACY_SECRETS, TEST_SECRET_KEY } from '../helpers/legacy-fixture.js';

/** Output with wrapped lines joined again (notes wrap to the output width between words). */
const unwrapped = (text: string) => text.replace(/\n +/g, ' ');

describe('igny8 migrate on a legacy embedded database', () => {
  let t: TestDatabase;
  let dataDir: string;
  let acmeBlog: number;
  const env = () => ({ IGNY8_DATA_DIR: dataDir, IGNY8_SECRET_KEY: undefined });

  beforeAll(async () => {
    t = await createTestDatabase('pglite', { onDisk: true });
    dataDir = t.dataDir!;
    await createLegacySchema(t.db);
    const f = await insertLegacyFixture(t.db.knex);
    acmeBlog = f.sites.acmeBlog;
    await t.db.knex('igny8_users').insert({ email: 'orphan@nowhere.example', password: 'x', role: 'editor' });
    await t.db.close();
  });
  afterAll(() => rmSync(path.dirname(dataDir), { recursive: true, force: true }));

  it('exits 3 at the blocked migration, naming the repair', async () => {
    const result = await runCli(['migrate'], { env: env() });
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/0002_bookkeeping_tables {2}applied/);
    expect(result.stdout).toMatch(/0008_users_account_not_null {2}failed/);
    expect(result.stdout).toMatch(/0009_owner_into_roles {2}not run/);
    expect(result.stderr).toMatch(/1 user without an account \(check orphan-users\).*repair: igny8 repair orphan-users/);
  });

  it('after the fix, migrates to the end, generating the key once and never printing a secret', async () => {
    const db = await connect({ dataDir });
    await db.knex('igny8_users').where({ email: 'orphan@nowhere.example' }).update({ account_id: db.knex('igny8_accounts').select('id').where({ slug: 'acme' }) });
    await db.close();
    const file = secretKeyFile(dataDir);
    // A dry run goes through the encryption with a throwaway key and leaves no key file.
    const dry = await runCli(['migrate', '--dry-run'], { env: env() });
    expect(dry.code).toBe(0);
    expect(unwrapped(dry.stdout)).toContain(`the real run will generate a key in ${file}`);
    expect(existsSync(file)).toBe(false);
    const result = await runCli(['migrate'], { env: env() });
    expect(stderrBesidesDatabase(result.stderr)).toBe('');
    expect(result.code).toBe(0);
    expect(unwrapped(result.stdout)).toContain(`generated a new key in ${file} (mode 0600)`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { key } = loadSecretKey({ kind: 'pglite', dataDir, env: {} });
    expect(result.stdout + result.stderr).not.toContain(key.toString('hex'));
    const reopened = await connect({ dataDir });
    try {
      const integration = await reopened.knex('igny8_site_integrations').where({ site_id: acmeBlog, platform: 'wordpress' }).first();
      expect(decryptSecret(integration.credentials_json.app_password, key)).toBe(LEGACY_SECRETS.acmeAppPassword);
    } finally {
      await reopened.close();
    }
  });
});

describeOnServer('igny8 migrate on a legacy server database', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    await createLegacySchema(t.db);
    await insertLegacyFixture(t.db.knex);
  });
  afterAll(() => t.drop());

  it('refuses without IGNY8_SECRET_KEY before applying anything, then completes with it', async () => {
    const before = await runCli(['--json', 'migrate', 'status'], { env: { DATABASE_URL: t.url! } });
    const refused = await runCli(['migrate'], { env: { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: undefined } });
    expect(refused.code).toBe(3);
    expect(refused.stdout).not.toMatch(/applied/);
    expect(refused.stderr).toMatch(/IGNY8_SECRET_KEY is not set: it is required on a PostgreSQL server/);
    const malformed = await runCli(['migrate'], { env: { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: 'not-a-key' } });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/IGNY8_SECRET_KEY: must be 64 hexadecimal characters/);
    const after = await runCli(['--json', 'migrate', 'status'], { env: { DATABASE_URL: t.url! } });
    expect(JSON.parse(after.stdout).migrations).toEqual(JSON.parse(before.stdout).migrations);
    const applied = await runCli(['migrate'], { env: { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: TEST_SECRET_KEY } });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/0019_wordpress_integrations {2}applied/);
    expect(applied.stdout + applied.stderr).not.toContain(TEST_SECRET_KEY);
  });
});
