// A check may plan its one statement with its own settings (groupInOrder, where the heap follows
// the grouped column); the transaction it runs in must plan the next statement as configured again.
import { expect, it } from 'vitest';
import { readShape } from '../../src/rules/shape.js';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { check, inRollback, makeAccount } from '../helpers/check-fixtures.js';

describeEachDatabase(
  'planner settings of one check',
  (fixture) => {
    it('apply to its statement only and are restored after it', async () => {
      await inRollback(fixture.db.knex, async (trx) => {
        await makeAccount(trx, { plan: 'growth', members: 1 });
        await makeAccount(trx, { plan: 'growth', members: 1 });
        await trx.raw('analyze igny8_users');
        expect((await readShape(trx)).heapFollows).toContain('igny8_users.tenant_id');
        await trx.raw(`select set_config('enable_hashagg', 'on', true)`);
        const outcome = await check(trx, 'multiple-owners');
        expect(outcome.kind).toBe('ran');
        const after = await trx.raw(`select current_setting('enable_hashagg') as value`);
        expect(after.rows[0].value).toBe('on');
      });
    });
  },
  { setup: (t) => prepareDatabase(t.db, 'legacy') },
);
