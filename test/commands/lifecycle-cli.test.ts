// The lifecycle commands as a user runs them: exit codes, messages, and the rows left.
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
