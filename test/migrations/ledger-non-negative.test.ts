// The ledger cannot go below zero even by hand: after migrate, direct SQL that writes a negative
// running balance is refused; rows written before the constraint are found by the
// ledger-negative-balance rule (a warning) and keep the constraint NOT VALID.
import { expect, it } from 'vitest';
import { migrateLatest } from '../../src/db/migrator.js';
import { runAudit } from '../../src/audit/run.js';
import { findRule } from '../../src/rules/registry.js';
import { makeAccount, shapeOf } from '../helpers/check-fixtures.js';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { TEST_ENV } from '../helpers/repair-fixtures.js';

describeEachDatabase('the ledger cannot go below zero', (fx) => {
  it('a negative running balance written before the constraint is a warning, and keeps it NOT VALID', async () => {
    await prepareDatabase(fx.db, 'legacy');
    const negative = await fx.db.knex.transaction(async (trx) => {
      const shape = await shapeOf(trx);
      const account = await makeAccount(trx);
      const [row] = await trx('igny8_credit_transactions')
        .insert({ [shape.of('igny8_credit_transactions')]: account.id, transaction_type: 'deduction', amount: -1500, balance_after: -500, description: 'overdrawn by hand' })
        .returning('id');
      return Number((row as { id: number }).id);
    });
    const run = await migrateLatest(fx.db, { env: TEST_ENV });
    expect(run.error?.message).toBeUndefined();
    expect(run.results.find((result) => result.name === '0057_ledger_balance_non_negative_validate')?.notes.join(' ')).toMatch(
      /1 older rows are below it, so the constraint stays NOT VALID/,
    );
    const report = await runAudit(fx.db.knex, { checks: [findRule('ledger-negative-balance')!], sample: 5 });
    expect(report.checks[0]).toMatchObject({ status: 'findings', severity: 'warning', count: 1, samples: [expect.objectContaining({ key: `ledger:${negative}` })] });
    expect(report.exitCode).toBe(0); // a warning, below the default --fail-on error
  });

  it('direct SQL cannot add a row whose balance_after is below zero', async () => {
    const account = await fx.db.knex('igny8_accounts').first('id');
    await expect(
      fx.db.knex('igny8_credit_transactions').insert({ account_id: account.id, transaction_type: 'deduction', amount: -10_000, balance_after: -1, description: 'by hand' }),
    ).rejects.toThrow(/igny8_credit_transactions_balance_after_non_negative/);
  });
});

describeEachDatabase(
  'on a clean ledger',
  (fx) => {
    it('the constraint is validated and the rule reports enforced by schema', async () => {
      const report = await runAudit(fx.db.knex, { checks: [findRule('ledger-negative-balance')!] });
      expect(report.checks[0]).toMatchObject({ status: 'enforced', enforcedBy: 'check igny8_credit_transactions_balance_after_non_negative' });
    });
  },
  { migrated: true },
);
