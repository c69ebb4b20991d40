// The ledger rules write one statement in more than one form, chosen by the shape of the
// database: one bigint per row (an id packed with a value, an account with an id) where ids
// are below 2^31, arrays and two-key sorts where they are not, and the account column itself
// where the ledger lies in account order or an index carries what the walk reads. Every form
// must find the same rows.
import { beforeAll, expect, it } from 'vitest';
import { findRule } from '../../src/rules/registry.js';
import { judgeRule } from '../../src/rules/judge.js';
import { readShape } from '../../src/rules/shape.js';
import type { Shape } from '../../src/rules/types.js';
import { seedLegacy } from '../../src/seed/legacy.js';
import { parseShape } from '../../src/seed/shape.js';
import { describeEachDatabase } from '../helpers/databases.js';

const LEDGER_RULES = ['credit-balance-drift', 'ledger-chain-broken', 'signup-credit-shortfall'];

describeEachDatabase('ledger rules: every form of the statement finds the same rows', (fx) => {
  let correctedFirst = '';
  beforeAll(async () => {
    await seedLegacy(fx.db, {
      accounts: 150,
      defectRate: 0.4,
      seed: 11,
      layout: 'arrival',
      shape: parseShape('busy').shape,
      defects: LEDGER_RULES,
    });
    // A free account whose first positive ledger row is a shortfall correction: its first grant
    // is the row after it (100 + 500 is short of the catalog's 1,000). Read as the first grant,
    // the correction would make it 500 + 500 and hide the finding.
    const [free] = (
      await fx.db.knex.raw(
        `select a.id from igny8_tenants a join igny8_plans p on p.id = a.plan_id and p.slug = 'free' order by a.id limit 1`,
      )
    ).rows as Array<{ id: number }>;
    correctedFirst = `account:${free.id}`;
    await fx.db.knex.raw(`delete from igny8_credit_transactions where tenant_id = ?`, [free.id]);
    await fx.db.knex.raw(
      `insert into igny8_credit_transactions (tenant_id, transaction_type, amount, balance_after, description, metadata)
       values (?, 'adjustment', 500, 500, 'signup credits shortfall correction', '{"repair": "signup-credit-shortfall"}'),
              (?, 'grant', 100, 600, 'signup credits', '{}')`,
      [free.id, free.id],
    );
    // The walk index of migration 0073, on the legacy shape's account column.
    await fx.db.knex.raw(`create index ledger_walk on igny8_credit_transactions (tenant_id, id) include (amount, balance_after)`);
  });

  it.each(LEDGER_RULES)('%s', async (id) => {
    const rule = findRule(id)!;
    const found = await fx.db.knex.transaction(async (trx) => {
      const shape = await readShape(trx);
      expect(shape.ledgerIdsPack).toBe(true);
      expect(shape.ledgerWalkIndex).toBe(true);
      const forms: Shape[] = [];
      for (const ledgerIdsPack of [true, false]) {
        for (const ledgerInAccountOrder of [false, true]) {
          for (const ledgerWalkIndex of [false, true]) forms.push({ ...shape, ledgerIdsPack, ledgerInAccountOrder, ledgerWalkIndex });
        }
      }
      const keys: string[][] = [];
      for (const form of forms) {
        const outcome = await trx.transaction((savepoint) => judgeRule(savepoint, rule, form, { sample: 100_000 }));
        keys.push(outcome.samples.map((sample) => sample.key).sort());
      }
      return keys;
    });
    expect(found[0].length).toBeGreaterThan(0);
    if (id === 'signup-credit-shortfall') expect(found[0]).toContain(correctedFirst);
    for (const other of found.slice(1)) expect(other).toEqual(found[0]);
  });
});
