// The domain commands as a user runs them: the seed's four scenarios end to end, the rows
// they leave, refusals and bad input (exit codes, the field named, nothing written), and no
// password or hash in any output.
import { beforeAll, expect, it } from 'vitest';
import { countRows } from '../helpers/domain-fixtures.js';
import { describeEachDatabase, describeOnServer, type TestDatabase, withTestDatabase } from '../helpers/databases.js';
import { registerTestSecret, runCli, stderrBesidesDatabase, type CliResult } from '../helpers/cli.js';
import { createMigratedDatabase } from '../helpers/templates.js';

const PASSWORD = 'Sup3r-Secret-Pa55'; // a known test secret: runCli fails if any output shows it
const WEAK_PASSWORDS = ['weakpw1', 'Password1'];
for (const password of WEAK_PASSWORDS) registerTestSecret(password); // refused passwords are never echoed either

interface RegistrationJson {
  account: { id: number; slug: string; status: string; credits: number };
  user: { id: number; email: string; role: string };
  invoice?: { number: string; total: string; billingSnapshot: Record<string, unknown> };
  paymentMethod?: { type: string; isDefault: boolean };
  subscription?: { id: number; status: string };
}

describeEachDatabase(
  'domain commands as child processes',
  (fx) => {
    async function run(args: string[], input?: string): Promise<CliResult> {
      const result = await runCli(args, { env: fx.t.env, input });
      // Hashes are secrets too: no output may carry one.
      expect(result.stdout + result.stderr).not.toMatch(/scrypt\$\d+\$/);
      return result;
    }

    let free: RegistrationJson;
    let paid: RegistrationJson;

    it('seed test 1: a free signup gets an active account, an owner and 1,000 credits in one ledger row', async () => {
      const result = await run(
        ['--json', 'register', '--email', 'test@example.com', '--password-stdin', '--account-name', 'Test Account', '--plan', 'free'],
        `${PASSWORD}\n`,
      );
      expect(stderrBesidesDatabase(result.stderr)).toBe('');
      expect(result.code).toBe(0);
      free = JSON.parse(result.stdout) as RegistrationJson;
      expect(free.account).toMatchObject({ slug: 'test-account', status: 'active', credits: 1000 });
      expect(free.user).toMatchObject({ email: 'test@example.com', role: 'owner' });
      await withTestDatabase(fx.t, async (db) => {
        const [user] = await db.knex('igny8_users').where('id', free.user.id);
        expect(user).toMatchObject({ account_id: free.account.id, role: 'owner' });
        expect(user.password).toMatch(/^scrypt\$17\$8\$1\$/); // the CLI hashes at the full OWASP cost
        const ledger = await db.knex('igny8_credit_transactions').where('account_id', free.account.id);
        expect(ledger.map((row) => [row.amount, row.balance_after])).toEqual([[1000, 1000]]);
      });
    });

    it('seed test 2: a paid signup gets a pending account, subscription, invoice and payment method', async () => {
      const result = await run(
        [
          '--json',
          'register',
          '--email',
          'paid@example.com',
          '--password-stdin',
          '--account-name',
          'Paid Account',
          '--plan',
          'starter',
          '--payment-method',
          'bank_transfer',
        ],
        PASSWORD,
      );
      expect(result.code).toBe(0);
      paid = JSON.parse(result.stdout) as RegistrationJson;
      expect(paid.account).toMatchObject({ status: 'pending_payment', credits: 0 });
      expect(paid.subscription).toMatchObject({ status: 'pending_payment' });
      expect(paid.invoice).toMatchObject({ total: '89.00', billingSnapshot: { email: 'paid@example.com', name: 'Paid Account' } });
      expect(paid.paymentMethod).toMatchObject({ type: 'bank_transfer', isDefault: true });
      await withTestDatabase(fx.t, async (db) => {
        const [subscription] = await db.knex('igny8_subscriptions').where('account_id', paid.account.id);
        const [plan] = await db.knex('igny8_plans').where('slug', 'starter');
        expect(subscription.plan_id).toBe(plan.id);
        const [invoice] = await db.knex('igny8_invoices').where('account_id', paid.account.id);
        expect(invoice).toMatchObject({ status: 'pending', subscription_id: subscription.id, invoice_number: paid.invoice?.number });
      });
    });

    it('seed test 3: a site with its industry; the owner gets access; the free plan allows one', async () => {
      const result = await run([
        'create-site',
        '--account',
        'test-account',
        '--name',
        'Test Site',
        '--domain',
        'https://test.com',
        '--industry',
        'technology',
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/created site "test-site"/);
      expect(result.stdout).toMatch(/access\s+test@example\.com \(owner\)/);
      const second = await run(['create-site', '--account', 'test-account', '--name', 'Two', '--domain', 'two.com', '--industry', 'technology']);
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(/site limit reached: plan "free" allows 1 site/);
      await withTestDatabase(fx.t, async (db) => {
        const [site] = await db.knex('igny8_sites').where({ account_id: free.account.id });
        const access = await db.knex('igny8_site_user_access').where('site_id', site.id);
        expect(access.map((row) => row.user_id)).toEqual([free.user.id]);
      });
    });

    it("seed test 4: a sector of the site's industry, within the plan's limit", async () => {
      const mismatch = await run(['create-sector', '--site', 'test-site', '--industry-sector', 'dental']);
      expect(mismatch.code).toBe(3);
      expect(mismatch.stderr).toMatch(/belongs to "healthcare", not to the site's industry "technology"/);
      const result = await run(['--json', 'create-sector', '--site', 'test-site', '--industry-sector', 'web-development', '--name', 'Web Development']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ slug: 'web-development', sectors: 1, maxSectorsPerSite: 1 });
      const over = await run(['create-sector', '--site', 'test-site', '--industry-sector', 'saas']);
      expect(over.code).toBe(3);
      expect(over.stderr).toMatch(/sector limit reached/);
    });

    it('grant-credits: once per idempotency key; the key with other parameters is refused', async () => {
      const args = ['grant-credits', '--account', 'test-account', '--amount', '250', '--reason', 'support goodwill', '--idempotency-key', 'ticket-42'];
      const first = await run(args);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/granted 250 credits .*\n\s+balance\s+1250/);
      const retry = await run(args);
      expect(retry.code).toBe(0);
      expect(retry.stdout).toMatch(/already granted: .*nothing changed/);
      const other = await run(['grant-credits', '--account', 'test-account', '--amount', '300', '--reason', 'support goodwill', '--idempotency-key', 'ticket-42']);
      expect(other.code).toBe(3);
      expect(other.stderr).toMatch(/idempotency key already used/);
    });

    it('account show: by slug or email, as a table or JSON, without password or hash', async () => {
      const human = await run(['account', 'show', 'PAID@example.com']);
      expect(human.code).toBe(0);
      for (const section of ['users', 'subscription', 'invoices', 'payment methods', 'sites', 'ledger']) {
        expect(human.stdout).toMatch(new RegExp(`^${section}`, 'm'));
      }
      expect(human.stdout).toContain(paid.invoice!.number);
      const json = await run(['--json', 'account', 'show', 'test-account']);
      expect(json.code).toBe(0);
      const view = JSON.parse(json.stdout) as {
        balance: number;
        users: Array<Record<string, unknown>>;
        ledger: Array<{ amount: number; balanceAfter: number }>;
        sites: Array<{ slug: string; sectors: number }>;
      };
      expect(view.balance).toBe(1250);
      expect(view.ledger.map((entry) => [entry.amount, entry.balanceAfter])).toEqual([
        [250, 1250],
        [1000, 1000],
      ]);
      expect(view.sites).toEqual([expect.objectContaining({ slug: 'test-site', sectors: 1 })]);
      expect(Object.keys(view.users[0])).not.toContain('password');
    });

    it('the same email in another case exits 3 "email already registered"; --password on argv warns', async () => {
      const dup = await run(['register', '--email', 'Test@Example.COM', '--password-stdin', '--account-name', 'Again', '--plan', 'free'], PASSWORD);
      expect(dup.code).toBe(3);
      expect(stderrBesidesDatabase(dup.stderr).trim()).toBe('error: email already registered');
      const argv = await run(['register', '--email', 'argv@example.com', '--password', PASSWORD, '--account-name', 'Argv', '--plan', 'free']);
      expect(argv.code).toBe(0);
      expect(argv.stderr).toMatch(/warning: a password on the command line can be read by other users/);
      const none = await run(['register', '--email', 'none@example.com', '--account-name', 'None', '--plan', 'free']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/--password-stdin/);
    });

    it('names keep the joiners Persian, Hindi and emoji need, are stored in NFC; keys are kept as sent', async () => {
      const persian = 'می\u200Cخواهم'; // ZWNJ between letters
      const hindi = 'क्\u200Dषमा'; // ZWJ after the virama
      const family = '👨\u200D👩\u200D👧';
      const key = `cle\u0301-${family}`;
      const registered = await run(
        ['--json', 'register', '--email', 'joiners@example.com', '--password-stdin', '--account-name', persian, '--first-name', hindi, '--last-name', 'Cafe\u0301', '--plan', 'free'],
        PASSWORD,
      );
      expect(registered.code, registered.stderr).toBe(0);
      const account = (JSON.parse(registered.stdout) as RegistrationJson).account;
      const site = await run(['--json', 'create-site', '--account', account.slug, '--name', `Famille ${family} Cafe\u0301`, '--domain', 'joiners.example', '--industry', 'technology', '--description', 'e\u0301te\u0301']);
      expect(site.code, site.stderr).toBe(0);
      const siteSlug = (JSON.parse(site.stdout) as { slug: string }).slug;
      const sector = await run(['create-sector', '--site', siteSlug, '--account', account.slug, '--industry-sector', 'saas', '--name', hindi]);
      expect(sector.code, sector.stderr).toBe(0);
      const grant = ['grant-credits', '--account', account.slug, '--amount', '5', '--reason', `${family} re\u0301sume\u0301`, '--idempotency-key', key];
      expect((await run(grant)).code).toBe(0);
      const retry = await run(grant);
      expect(retry.code, retry.stderr).toBe(0);
      expect(retry.stdout).toMatch(/already granted: .*nothing changed/);
      await withTestDatabase(fx.t, async (db) => {
        const [stored] = await db.knex('igny8_accounts').where('id', account.id).select('name');
        expect(stored.name).toBe(persian);
        const [user] = await db.knex('igny8_users').where('account_id', account.id).select('first_name', 'last_name');
        expect(user).toEqual({ first_name: hindi, last_name: 'Café' });
        const [storedSite] = await db.knex('igny8_sites').where('account_id', account.id).select('id', 'name', 'description');
        expect(storedSite).toMatchObject({ name: `Famille ${family} Café`, description: 'été' });
        const sectors = await db.knex('igny8_sectors').where('site_id', storedSite.id).pluck('name');
        expect(sectors).toEqual([hindi]);
        const ledger = await db.knex('igny8_credit_transactions').where('account_id', account.id).whereNotNull('idempotency_key').whereNot('idempotency_key', 'signup').select('description', 'idempotency_key');
        expect(ledger).toEqual([{ description: `${family} résumé`, idempotency_key: key }]);
      });
    });

    const TEN_KB = 'x'.repeat(10 * 1024);
    const register = (flags: string[], password = PASSWORD) => ({
      args: ['register', '--password-stdin', ...flags],
      input: password,
    });
    const base = { email: 'new@example.com', name: 'New Account', plan: 'free' };
    const registerWith = (o: Partial<typeof base> & { extra?: string[] }, password?: string) =>
      register(['--email', o.email ?? base.email, '--account-name', o.name ?? base.name, '--plan', o.plan ?? base.plan, ...(o.extra ?? [])], password);
    const BAD_INPUT: Array<[string, { args: string[]; input?: string }, RegExp]> = [
      ['an invalid email', registerWith({ email: 'not-an-email' }), /--email: must be a valid email address/],
      ['a weak password', registerWith({}, WEAK_PASSWORDS[0]), /--password: must be at least 8 characters/],
      ['a well-known password', registerWith({}, WEAK_PASSWORDS[1]), /--password: is a well-known password/],
      ['an unknown plan', registerWith({ plan: 'platinum' }), /--plan: no plan "platinum"/],
      ['SQL in the plan', registerWith({ plan: "free'; drop table igny8_users; --" }), /--plan: must be a slug/],
      ['a 10 kB account name', registerWith({ name: TEN_KB }), /--account-name: must be at most 255 characters/],
      ['a control character in the name', registerWith({ name: 'Acme\u001b[31mLtd' }), /--account-name: must not contain control characters/],
      ['three zero-width spaces as the name', registerWith({ name: '\u200B\u200B\u200B' }), /--account-name: must not contain invisible formatting characters \(U\+200B at character 1\)/],
      ['a soft hyphen in the first name', registerWith({ extra: ['--first-name', 'An\u00ADna'] }), /--first-name: must not contain invisible formatting characters \(U\+00AD at character 3\)/],
      ['a Hangul filler as the last name', registerWith({ extra: ['--last-name', '\u3164'] }), /--last-name: must contain a visible character/],
      ['hidden tag characters in the city', registerWith({ extra: ['--billing-city', 'Paris\u{E0068}\u{E0069}'] }), /--billing-city: must not contain invisible formatting characters \(U\+E0068/],
      ['a right-to-left override in the site name', { args: ['create-site', '--account', 'test-account', '--name', 'Evil\u202Egnp.exe', '--domain', 's.com', '--industry', 'technology'] }, /--name: must not contain direction-changing characters \(U\+202E at character 5\)/],
      ['an isolate in the description', { args: ['create-site', '--account', 'test-account', '--name', 'S', '--domain', 's.com', '--industry', 'technology', '--description', 'a\u2066b'] }, /--description: must not contain direction-changing characters \(U\+2066/],
      ['a zero-width space in the domain', { args: ['create-site', '--account', 'test-account', '--name', 'S', '--domain', 'https://exa\u200Bmple.com', '--industry', 'technology'] }, /--domain: must not contain invisible formatting characters \(U\+200B/],
      ['a joiner that joins nothing in the sector name', { args: ['create-sector', '--site', 'test-site', '--industry-sector', 'saas', '--name', 'Web \u200CDev'] }, /--name: may hold a zero-width joiner or non-joiner only between letters or emoji \(U\+200C/],
      ['an unknown payment method', registerWith({ extra: ['--payment-method', 'bitcoin'] }), /--payment-method: must be one of/],
      ['an unknown industry', { args: ['create-site', '--account', 'test-account', '--name', 'S', '--domain', 's.com', '--industry', 'mining'] }, /--industry: no industry "mining"/],
      ['an unknown account', { args: ['create-site', '--account', 'nobody', '--name', 'S', '--domain', 's.com', '--industry', 'technology'] }, /--account: no account with slug "nobody"/],
      ['a bad domain', { args: ['create-site', '--account', 'test-account', '--name', 'S', '--domain', 'not a domain', '--industry', 'technology'] }, /--domain: must be a host name/],
      ['a 10 kB site name', { args: ['create-site', '--account', 'test-account', '--name', TEN_KB, '--domain', 's.com', '--industry', 'technology'] }, /--name: must be at most 255 characters/],
      ['an unknown industry sector', { args: ['create-sector', '--site', 'test-site', '--industry-sector', 'quantum'] }, /--industry-sector: no industry sector "quantum"/],
      ['an unknown site', { args: ['create-sector', '--site', 'nowhere', '--industry-sector', 'saas'] }, /--site: no site "nowhere"/],
      ['a zero amount', { args: ['grant-credits', '--account', 'test-account', '--amount', '0', '--reason', 'r'] }, /--amount: must be a whole number from 1 to 2147483647/],
      ['a negative amount', { args: ['grant-credits', '--account', 'test-account', '--amount', '-5', '--reason', 'r'] }, /--amount: must be a whole number/],
      ['an amount over 2^31-1', { args: ['grant-credits', '--account', 'test-account', '--amount', '2147483648', '--reason', 'r'] }, /--amount: must be a whole number/],
      ['a non-numeric amount', { args: ['grant-credits', '--account', 'test-account', '--amount', '1e3', '--reason', 'r'] }, /--amount: must be a whole number/],
      ['SQL in the account', { args: ['grant-credits', '--account', "x' or '1'='1", '--amount', '5', '--reason', 'r'] }, /--account: must be a slug/],
      ['an unknown account to credit', { args: ['grant-credits', '--account', 'ghost', '--amount', '5', '--reason', 'r'] }, /--account: no account with slug "ghost"/],
      ['a newline in the reason', { args: ['grant-credits', '--account', 'test-account', '--amount', '5', '--reason', 'a\nb'] }, /--reason: must not contain control characters/],
      ['a left-to-right mark in the reason', { args: ['grant-credits', '--account', 'test-account', '--amount', '5', '--reason', 'goodwill\u200E'] }, /--reason: must not contain direction-changing characters \(U\+200E at character 9\)/],
      ['a word joiner in the key', { args: ['grant-credits', '--account', 'test-account', '--amount', '5', '--reason', 'r', '--idempotency-key', 'ticket\u206043'] }, /--idempotency-key: must not contain invisible formatting characters \(U\+2060/],
      ['an unknown account to show', { args: ['account', 'show', 'ghost@example.com'] }, /SLUG\|EMAIL: no user with email "ghost@example.com"/],
      ['SQL in the account to show', { args: ['account', 'show', "'; select 1; --"] }, /SLUG\|EMAIL: must be an account slug or a user email/],
    ];

    it('bad input exits 2, names the field, and writes nothing', async () => {
      const before = await withTestDatabase(fx.t, (db) => countRows(db.knex));
      for (const [what, call, message] of BAD_INPUT) {
        const result = await run(call.args, call.input);
        expect(result.code, `${what}: ${result.stderr}`).toBe(2);
        expect(result.stderr, what).toMatch(message);
        expect(result.stdout, what).toBe('');
      }
      expect(await withTestDatabase(fx.t, (db) => countRows(db.knex))).toEqual(before);
    }, 240_000); // three dozen child processes: generous on a busy machine

    it('everything the commands created passes the audit', async () => {
      const audit = await run(['--json', 'audit', '--fail-on', 'warning']);
      expect(stderrBesidesDatabase(audit.stderr)).toBe('');
      expect(audit.code).toBe(0);
    });
  },
  {
    onDisk: true,
    migrated: true,
    setup: async (t) => {
      // The embedded database is one process' at a time: free it for the child processes.
      if (t.kind === 'pglite') await t.db.close();
    },
  },
);

describeEachDatabase('domain commands on a database that is not migrated', (fx) => {
  beforeAll(async () => {
    if (fx.kind === 'pglite') await fx.t.db.close();
  });

  it('refuse with exit 3 and say to run igny8 migrate', async () => {
    const result = await runCli(['grant-credits', '--account', 'acme', '--amount', '5', '--reason', 'r'], { env: fx.t.env });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/run `igny8 migrate`/);
  });
}, { onDisk: true });

describeOnServer('concurrent registrations as child processes [postgres]', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createMigratedDatabase('postgres');
    return () => t.drop();
  });

  it('5 processes register case variants of one email at once: one succeeds, the others exit 3', async () => {
    const variants = ['race@example.com', 'RACE@example.com', 'Race@Example.com', 'race@EXAMPLE.COM', 'rAcE@example.com'];
    const before = await countRows(t.db.knex);
    const results = await Promise.all(
      variants.map((email, i) =>
        runCli(['register', '--email', email, '--password-stdin', '--account-name', `Race ${i}`, '--plan', i % 2 ? 'starter' : 'free'], {
          env: t.env,
          input: PASSWORD,
        }),
      ),
    );
    expect(results.map((r) => r.code).sort()).toEqual([0, 3, 3, 3, 3]);
    for (const r of results.filter((r) => r.code === 3)) expect(stderrBesidesDatabase(r.stderr).trim()).toBe('error: email already registered');
    const after = await countRows(t.db.knex);
    expect(after.igny8_accounts - before.igny8_accounts).toBe(1);
    expect(after.igny8_users - before.igny8_users).toBe(1);
  });
});
