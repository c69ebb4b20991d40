// The member, ownership and site access commands as a user runs them: what they print, their
// exit codes, the rows they leave, and nothing written on refusal; the audit stays clean.
import { expect, it } from 'vitest';
import { countRows } from '../helpers/domain-fixtures.js';
import { describeEachDatabase, describeOnServer, withTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { runCli, stderrBesidesDatabase, type CliResult } from '../helpers/cli.js';
import { createMigratedDatabase } from '../helpers/templates.js';
import { beforeAll } from 'vitest';

const PASSWORD = 'Sup3r-Secret-Pa55';

/** Registers an account on a paid plan and pays its signup invoice: an active account. */
async function registerPaid(run: (args: string[], input?: string) => Promise<CliResult>, email: string, name: string, plan: string): Promise<void> {
  const registered = await run(['--json', 'register', '--email', email, '--password-stdin', '--account-name', name, '--plan', plan], PASSWORD);
  expect(registered.code, registered.stderr).toBe(0);
  const { invoice } = JSON.parse(registered.stdout) as { invoice: { number: string } };
  const paid = await run(['invoice', 'pay', invoice.number]);
  expect(paid.code, paid.stderr).toBe(0);
}

describeEachDatabase(
  'user, account transfer-ownership and site access commands',
  (fx) => {
    const run = (args: string[], input?: string): Promise<CliResult> => runCli(args, { env: fx.t.env, input });

    it('a member is added, renamed, made owner; the owner before is deactivated; access granted and revoked', async () => {
      await registerPaid(run, 'ann@example.com', 'Ann Co', 'growth');
      expect((await run(['create-site', '--account', 'ann-co', '--name', 'Blog', '--domain', 'blog.example.com', '--industry', 'technology'])).code).toBe(0);

      const added = await run(['user', 'add', '--account', 'ann-co', '--email', 'Bob@example.com', '--role', 'editor', '--password-stdin'], `${PASSWORD}\n`);
      expect(stderrBesidesDatabase(added.stderr)).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toContain('added Bob@example.com');
      expect(added.stdout).toContain('2 of 3');

      const before = await withTestDatabase(fx.t, (db) => countRows(db.knex));
      const refusals: Array<[string[], number, RegExp]> = [
        [['user', 'add', '--account', 'ann-co', '--email', 'BOB@example.com', '--role', 'viewer'], 3, /email already registered/],
        [['user', 'add', '--account', 'ann-co', '--email', 'not-an-email', '--role', 'viewer'], 2, /--email: must be a valid email/],
        [['user', 'add', '--account', 'ann-co', '--email', 'c@example.com', '--role', 'owner'], 2, /--role/],
        [['user', 'add', '--account', 'ann-co', '--email', 'c@example.com', '--role', 'viewer', '--first-name', 'C\u200Barl'], 2, /--first-name: /],
        [['user', 'add', '--account', 'nobody', '--email', 'c@example.com', '--role', 'viewer'], 2, /--account: no account/],
        [['user', 'deactivate', '--email', 'ann@example.com'], 3, /is the owner of account "ann-co" and cannot be deactivated/],
        [['user', 'change-email', '--from', 'bob@example.com', '--to', 'ANN@example.com'], 3, /email already registered/],
        [['account', 'transfer-ownership', '--account', 'ann-co', '--to', 'zed@example.com'], 2, /--to: no user with email/],
        [['site', 'access', 'revoke', '--site', 'blog', '--email', 'ann@example.com'], 3, /the owner keeps access/],
        [['site', 'access', 'list'], 2, /--site: give --site or --account/],
      ];
      for (const [args, code, message] of refusals) {
        const result = await run(args);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(code);
        expect(result.stderr).toMatch(message);
        expect(result.stdout).toBe('');
      }
      expect(await withTestDatabase(fx.t, (db) => countRows(db.knex))).toEqual(before);

      const renamed = await run(['--json', 'user', 'change-email', '--from', 'bob@example.com', '--to', 'robert@example.com']);
      expect(renamed.code).toBe(0);
      expect(JSON.parse(renamed.stdout)).toMatchObject({ from: 'Bob@example.com', to: 'robert@example.com', changed: true });

      const transfer = await run(['account', 'transfer-ownership', '--account', 'ann-co', '--to', 'robert@example.com']);
      expect(transfer.code).toBe(0);
      expect(transfer.stdout).toContain('now owned by robert@example.com');
      expect((await run(['user', 'deactivate', '--email', 'ann@example.com'])).code).toBe(0);

      expect((await run(['site', 'access', 'grant', '--site', 'blog', '--account', 'ann-co', '--email', 'ann@example.com'])).code).toBe(3); // deactivated
      const listed = await run(['--json', 'site', 'access', 'list', '--account', 'ann-co']);
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ user: { email: string } }>).map((row) => row.user.email)).toEqual([
        'ann@example.com',
        'robert@example.com',
      ]);
      expect((await run(['site', 'access', 'revoke', '--site', 'blog', '--email', 'ann@example.com'])).code).toBe(0);

      const shown = await run(['--json', 'account', 'show', 'ann-co']);
      const view = JSON.parse(shown.stdout) as { users: Array<{ email: string; role: string; isActive: boolean; deactivatedAt: string | null }> };
      expect(view.users.map((u) => [u.email, u.role, u.isActive, u.deactivatedAt === null])).toEqual([
        ['ann@example.com', 'admin', false, false],
        ['robert@example.com', 'owner', true, true],
      ]);
      const table = await run(['account', 'show', 'ann-co']);
      expect(table.stdout).toMatch(/ann@example\.com.*admin.*no, since \d{4}-\d{2}-\d{2}/);
      const audit = await run(['audit', '--fail-on', 'warning', '--check', 'account-without-owner,multiple-owners,site-access-missing,site-limit-exceeded,duplicate-emails']);
      expect(audit.code, audit.stdout).toBe(0);
    }, 120_000);
  },
  {
    onDisk: true,
    migrated: true,
    setup: async (t) => {
      if (t.kind === 'pglite') await t.db.close();
    },
  },
);

describeOnServer('concurrent transfers as child processes [postgres]', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createMigratedDatabase('postgres');
    return () => t.drop();
  });

  it('4 processes transfer one account to 4 members at once: every one succeeds, one owner after', async () => {
    const run = (args: string[], input?: string) => runCli(args, { env: t.env, input });
    await registerPaid(run, 'own@example.com', 'Race Co', 'scale');
    const heirs = ['h1@example.com', 'h2@example.com', 'h3@example.com', 'h4@example.com'];
    for (const email of heirs) expect((await run(['user', 'add', '--account', 'race-co', '--email', email, '--role', 'admin'])).code).toBe(0);
    const results = await Promise.all(heirs.map((email) => run(['account', 'transfer-ownership', '--account', 'race-co', '--to', email])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const owners = await t.db.knex('igny8_users as u').join('igny8_accounts as a', 'a.id', 'u.account_id').where({ 'a.slug': 'race-co', 'u.role': 'owner' });
    expect(owners).toHaveLength(1);
  }, 120_000);
});
