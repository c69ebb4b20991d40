// The ledger rules write one statement in more than one form, chosen by the shape of the
// database: one bigint per row (an id packed with a value, an account with an id) where ids
// are below 2^31, arrays and two-key sorts where they are not, and the account column itself
// where the ledger lies in account order. Every form must find the same rows.
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
  beforeAll(async () => {
    await seedLegacy(fx.db, {
      accounts: 150,
      defectRate: 0.4,
      seed: 11,
      layout: 'arrival',
      shape: parseShape('busy').shape,
      defects: LEDGER_RULES,
    });
  });

  it.each(LEDGER_RULES)('%s', async (id) => {
    const rule = findRule(id)!;
    const found = await fx.db.knex.transaction(async (trx) => {
      const shape = await readShape(trx);
      expect(shape.ledgerIdsPack).toBe(true);
      const forms: Shape[] = [
        { ...shape, ledgerIdsPack: true, ledgerInAccountOrder: false },
        { ...shape, ledgerIdsPack: false, ledgerInAccountOrder: false },
        { ...shape, ledgerIdsPack: true, ledgerInAccountOrder: true },
        { ...shape, ledgerIdsPack: false, ledgerInAccountOrder: true },
      ];
      const keys: string[][] = [];
      for (const form of forms) {
        const outcome = await trx.transaction((savepoint) => judgeRule(savepoint, rule, form, { sample: 100_000 }));
        keys.push(outcome.samples.map((sample) => sample.key).sort());
      }
      return keys;
    });
    expect(found[0].length).toBeGreaterThan(0);
    for (const other of found.slice(1)) expect(other).toEqual(found[0]);
  });
});
