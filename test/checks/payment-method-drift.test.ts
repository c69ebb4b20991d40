// payment-method-drift names one problem per account, in the order a person fixes them, with
// the methods it compared: every problem on the legacy shape, where all three places exist.
import { expect, it } from 'vitest';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { check, inRollback, makeAccount } from '../helpers/check-fixtures.js';

describeEachDatabase(
  'payment-method-drift on the legacy shape',
  (fixture) => {
    it('reports each kind of drift once, with the methods it compared', async () => {
      await inRollback(fixture.db.knex, async (trx) => {
        await makeAccount(trx, { plan: 'growth' }); // clean
        const several = await makeAccount(trx, { plan: 'scale' });
        await trx('igny8_account_payment_methods').insert({ tenant_id: several.id, type: 'paypal', is_default: true });
        const none = await makeAccount(trx, { plan: 'starter' });
        await trx('igny8_account_payment_methods').where({ id: none.paymentMethodId }).update({ is_default: false });
        const subscription = await makeAccount(trx, { plan: 'growth' });
        await trx('igny8_subscriptions').where({ id: subscription.subscriptionId }).update({ payment_method: 'paypal' });
        const method = await makeAccount(trx, { plan: 'starter' });
        await trx('igny8_account_payment_methods').where({ id: method.paymentMethodId }).update({ type: 'bank_transfer' });

        const outcome = await check(trx, 'payment-method-drift');
        if (outcome.kind !== 'ran') throw new Error(`did not run: ${outcome.kind}`);
        const rows = outcome.samples.map(({ key, problem, account_method, subscription_method, default_type, defaults }) => ({
          key,
          problem,
          methods: [account_method, subscription_method, default_type, Number(defaults)],
        }));
        expect(rows).toEqual([
          { key: `account:${several.id}`, problem: 'several default payment methods', methods: ['stripe', 'stripe', 'paypal', 2] },
          { key: `account:${none.id}`, problem: 'a subscription but no default payment method', methods: ['stripe', 'stripe', null, 0] },
          {
            key: `account:${subscription.id}`,
            problem: 'subscription and account payment methods differ',
            methods: ['stripe', 'paypal', 'stripe', 1],
          },
          {
            key: `account:${method.id}`,
            problem: 'default payment method differs from the account',
            methods: ['stripe', 'stripe', 'bank_transfer', 1],
          },
        ]);
        expect(outcome.count).toBe(4);
      });
    });
  },
  { setup: (t) => prepareDatabase(t.db, 'legacy') },
);
