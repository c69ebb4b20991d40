// The lifecycle commands as a user runs them: exit codes, messages, and the rows left.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { countRows } from '../helpers/domain-fixtures.js';
import { describeEachDatabase, withTestDatabase } from '../helpers/databases.js';
import { runCli, stderrBesidesDatabase, type CliResult } from '../helpers/cli.js';

const PASSWORD = 'Sup3r-Secret-Pa55';

describeEachDatabase(
  'lifecycle commands as child processes',
  (fx) => {
    const run = (args: string[], input?: string): Promise<CliResult> => runCli(args, { env: fx.t.env, input });
    let slug = '';
    let number = '';

    it('a paid signup is gated until `invoice pay`, which activates it and grants the credits once', async () => {
      const registered = await run(
        ['--json', 'register', '--email', 'life@example.com', '--password-stdin', '--account-name', 'Life Co', '--plan', 'starter'],
        PASSWORD,
      );
      expect(registered.code, registered.stderr).toBe(0);
      const json = JSON.parse(registered.stdout) as { account: { slug: string }; invoice: { number: string } };
      slug = json.account.slug;
      number = json.invoice.number;
      const gated = await run(['create-site', '--account', slug, '--name', 'S', '--domain', 's.example.com', '--industry', 'technology']);
      expect(gated.code).toBe(3);
      expect(gated.stderr).toContain(`account "${slug}" is pending_payment: no new sites: pay invoice ${number} (89.00 USD, pending) first`);
      expect(gated.stderr).toContain(`igny8 invoice pay ${number}`);

      const paid = await run(['invoice', 'pay', number, '--reference', 'wire 77', '--paid-at', '2026-01-05']);
      expect(paid.code, paid.stderr).toBe(0);
      expect(paid.stdout).toContain(`invoice ${number} paid: 89.00 USD, reference "wire 77"`);
      expect(paid.stdout).toMatch(/account\s+"life-co": pending_payment → active/);
      expect(paid.stdout).toMatch(new RegExp(`credits\\s+\\+1000 \\(ledger entry \\d+, key ${number}\\); balance 1000`));
      const again = await run(['--json', 'invoice', 'pay', number]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ replayed: true, account: { status: 'active' } });
      const voided = await run(['invoice', 'void', number]);
      expect(voided.code).toBe(3);
      expect(stderrBesidesDatabase(voided.stderr)).toContain(`error: invoice ${number} is paid: a paid invoice cannot be voided`);
      await withTestDatabase(fx.t, async (db) => {
        const ledger = await db.knex('igny8_credit_transactions').join('igny8_accounts as a', 'a.id', 'account_id').where('a.slug', slug).select('amount', 'idempotency_key');
        expect(ledger).toEqual([{ amount: 1000, idempotency_key: number }]);
      });
    }, 180_000); // child processes on a busy machine

    it('debit-credits: never below zero (exit 3 with the balance); bad input exits 2; nothing written', async () => {
      const debit = await run(['debit-credits', '--account', slug, '--amount', '400', '--reason', 'usage', '--idempotency-key', 'run-1']);
      expect(debit.code, debit.stderr).toBe(0);
      expect(debit.stdout).toMatch(/debited 400 credits from account "life-co" \(ledger entry \d+, deduction\)\n\s+balance\s+600/);
      const before = await withTestDatabase(fx.t, (db) => countRows(db.knex));
      const over = await run(['debit-credits', '--account', slug, '--amount', '601', '--reason', 'usage']);
      expect(over.code).toBe(3);
      expect(over.stderr).toContain('insufficient credits: the balance is 600, the debit 601');
      for (const [args, message] of [
        [['debit-credits', '--account', slug, '--amount', '0', '--reason', 'r'], /--amount: must be a whole number/],
        [['invoice', 'pay', 'INV-404'], /NUMBER: no invoice "INV-404"/],
        [['invoice', 'pay', "x'; drop table igny8_invoices"], /NUMBER: must be an invoice number/],
        [['invoice', 'pay', number, '--paid-at', 'yesterday'], /--paid-at: must be a date/],
      ] as Array<[string[], RegExp]>) {
        const result = await run(args);
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toMatch(message);
      }
      expect(await withTestDatabase(fx.t, (db) => countRows(db.knex))).toEqual(before);
    }, 180_000);

    it('change-plan and billing run: exit codes and what they report', async () => {
      const dry = await run(['change-plan', '--account', slug, '--plan', 'growth', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/^dry run, nothing changed: would move account "life-co" from starter to growth \(upgrade, now\)/);
      const same = await run(['change-plan', '--account', slug, '--plan', 'starter']);
      expect(same.code).toBe(3);
      expect(same.stderr).toContain('account "life-co" is on plan "starter" already');
      const down = await run(['change-plan', '--account', slug, '--plan', 'free']);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toMatch(/scheduled the downgrade of account "life-co" from starter to free for .* \(period end\)/);
      const badAt = await run(['change-plan', '--account', slug, '--plan', 'growth', '--at', 'tomorrow']);
      expect(badAt.code).toBe(2);
      const billing = await run(['billing', 'run', '--as-of', '2099-01-01', '--grace-days', '3', '--dry-run']);
      expect(billing.code, billing.stderr).toBe(0);
      expect(billing.stdout).toMatch(/^billing run \(dry run: nothing changed\) as of 2099-01-01 00:00:00 UTC, grace 3 days/);
      // The grace period comes from igny8.config.json when --grace-days is not given.
      const dir = mkdtempSync(path.join(tmpdir(), 'igny8-billing-'));
      writeFileSync(path.join(dir, 'igny8.config.json'), JSON.stringify({ billing: { graceDays: 5 } }));
      const configured = await runCli(['billing', 'run', '--dry-run'], { env: fx.t.env, cwd: dir });
      rmSync(dir, { recursive: true, force: true });
      expect(configured.code, configured.stderr).toBe(0);
      expect(configured.stdout).toMatch(/grace 5 days/);
      const badGrace = await run(['billing', 'run', '--grace-days', 'ten']);
      expect(badGrace.code).toBe(2);
      expect(badGrace.stderr).toContain('--grace-days: must be a whole number of days from 0 to 365');
      const real = await run(['--json', 'billing', 'run', '--reason', 'nightly']);
      expect(real.code, real.stderr).toBe(0);
      expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, counts: { renewals: 0 } });
    }, 180_000);
  },
  {
    migrated: true,
    onDisk: true,
    // The embedded database admits one process: the children, not this one.
    setup: async (t) => {
      if (t.kind === 'pglite') await t.db.close();
    },
  },
);
