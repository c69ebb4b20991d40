// Every check on both shapes and both databases: a clean database where it finds nothing,
// and one defect planted where it finds exactly the planted rows (by key).
import { describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { RULES } from '../../src/rules/registry.js';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { check, inRollback, keys, makeAccount, shapeOf, TEST_CREDENTIAL_KEY, type Fixture, type Shape } from '../helpers/check-fixtures.js';
import { encryptSecret } from '../../src/crypto/index.js';

type ShapeName = 'legacy' | 'target';

interface Case {
  /** Planted rows' keys, or the outcome kind expected on this shape ('enforced', 'not-applicable'). */
  plant(trx: Knex.Transaction, shape: Shape): Promise<string[] | string>;
}

const idOf = async (trx: Knex.Transaction, table: string, where: Record<string, unknown>) =>
  Number((await trx(table).where(where).first('id')).id);

const CASES: Record<string, (name: ShapeName) => Case> = {
  'orphan-users': (name) => ({
    async plant(trx) {
      if (name === 'target') return 'enforced';
      const a = await makeAccount(trx, { plan: 'starter', members: 1 });
      await trx('igny8_users').where({ id: a.memberIds[0] }).update({ tenant_id: null });
      return [`user:${a.memberIds[0]}`];
    },
  }),
  'account-without-owner': (name) => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx, { plan: 'starter', members: 1 });
      await trx('igny8_users').where({ id: a.ownerId }).update({ role: 'admin' });
      if (name === 'target') return [`account:${a.id}`];
      const b = await makeAccount(trx);
      const c = await makeAccount(trx);
      await trx(shape.accounts).where({ id: c.id }).update({ owner_id: b.ownerId });
      return [`account:${a.id}`, `account:${c.id}`];
    },
  }),
  'multiple-owners': (name) => ({
    async plant(trx) {
      if (name === 'target') return 'enforced';
      const a = await makeAccount(trx, { plan: 'growth', members: 1 });
      await trx('igny8_users').where({ id: a.memberIds[0] }).update({ role: 'owner' });
      return [`account:${a.id}`];
    },
  }),
  'owner-role-mismatch': (name) => ({
    async plant(trx, shape) {
      if (name === 'target') return 'not-applicable';
      // owner_id names an admin member while the owner role is another member's
      const a = await makeAccount(trx, { plan: 'growth', members: 1 });
      await trx(shape.accounts).where({ id: a.id }).update({ owner_id: a.memberIds[0] });
      // not this rule's: no member holds the owner role (account-without-owner's)
      const b = await makeAccount(trx, { plan: 'growth', members: 1 });
      await trx(shape.accounts).where({ id: b.id }).update({ owner_id: b.memberIds[0] });
      await trx('igny8_users').where({ id: b.ownerId }).update({ role: 'editor' });
      // nor an owner_id naming an admin of another account
      const c = await makeAccount(trx);
      await trx(shape.accounts).where({ id: c.id }).update({ owner_id: a.memberIds[0] });
      return [`account:${a.id}`];
    },
  }),
  'duplicate-emails': (name) => ({
    async plant(trx, shape) {
      if (name === 'target') return 'enforced';
      const a = await makeAccount(trx, { plan: 'growth' });
      await trx('igny8_users').insert({
        email: `${a.slug}-OWNER@Mail.test`,
        password: 'pbkdf2_sha256$1$a$b',
        role: 'admin',
        [shape.of('igny8_users')]: a.id,
      });
      return [`email:${a.slug}-owner@mail.test`];
    },
  }),
  'site-industry-null': (name) => ({
    async plant(trx) {
      if (name === 'target') return 'enforced';
      const a = await makeAccount(trx, { plan: 'growth', sites: 2 });
      await trx('igny8_sites').where({ id: a.siteIds[1] }).update({ industry_id: null });
      return [`site:${a.siteIds[1]}`];
    },
  }),
  'sector-industry-mismatch': () => ({
    async plant(trx) {
      const a = await makeAccount(trx);
      const health = await idOf(trx, 'igny8_industries', { slug: 'healthcare' });
      const dental = await idOf(trx, 'igny8_industry_sectors', { industry_id: health, slug: 'dental' });
      await trx('igny8_sectors').where({ id: a.sectorIds[0] }).update({ industry_sector_id: dental });
      return [`sector:${a.sectorIds[0]}`];
    },
  }),
  'sector-limit-exceeded': () => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx); // free: one sector per site
      await makeAccount(trx, { plan: 'scale' }); // unlimited: never a finding
      await trx('igny8_sectors').insert({ [shape.of('igny8_sectors')]: a.id, site_id: a.siteIds[0], name: 'Two', slug: 'two' });
      return [`site:${a.siteIds[0]}`];
    },
  }),
  'site-limit-exceeded': () => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx);
      const b = await makeAccount(trx, { plan: 'starter', members: 1 }); // 2 users of 2: fine
      const c = await makeAccount(trx, { plan: 'starter', members: 2 }); // 3 users of 2
      const industry = await idOf(trx, 'igny8_industries', { slug: 'finance' });
      await trx('igny8_sites').insert({ [shape.of('igny8_sites')]: a.id, name: 'Second', slug: 'second', industry_id: industry });
      void b;
      return [`account:${a.id}`, `account:${c.id}`];
    },
  }),
  'plan-catalog-drift': (name) => ({
    async plant(trx) {
      await trx('igny8_plans').where({ slug: 'free' }).update({ included_credits: 100 });
      await trx('igny8_plans')
        .where({ slug: 'growth' })
        .update({ [name === 'legacy' ? 'max_industries' : 'max_sectors_per_site']: 9 });
      return ['plan:free', 'plan:growth'];
    },
  }),
  'subscription-plan-missing': (name) => ({
    plant: async () => (name === 'legacy' ? 'not-applicable' : 'enforced'),
  }),
  'subscription-plan-drift': (name) => ({
    async plant(trx) {
      if (name === 'legacy') return 'not-applicable';
      const a = await makeAccount(trx, { plan: 'starter' });
      await trx('igny8_subscriptions')
        .where({ id: a.subscriptionId })
        .update({ plan_id: await idOf(trx, 'igny8_plans', { slug: 'growth' }) });
      return [`subscription:${a.subscriptionId}`];
    },
  }),
  'credit-balance-drift': () => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx);
      await trx(shape.accounts).where({ id: a.id }).increment('credits', 5);
      const b = await makeAccount(trx, { plan: 'growth' });
      await trx(shape.accounts).where({ id: b.id }).decrement('credits', 2000); // 0, no ledger change
      return [`account:${a.id}`, `account:${b.id}`];
    },
  }),
  'ledger-chain-broken': () => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx);
      const [row] = await trx('igny8_credit_transactions')
        .insert({ [shape.of('igny8_credit_transactions')]: a.id, transaction_type: 'deduction', amount: -10, balance_after: 995 })
        .returning('id');
      await trx(shape.accounts).where({ id: a.id }).update({ credits: 995 });
      return [`ledger:${(row as { id: number }).id}`];
    },
  }),
  'signup-credit-shortfall': () => ({
    async plant(trx, shape) {
      const short = await makeAccount(trx, { grant: 100 });
      const corrected = await makeAccount(trx, { grant: 100 });
      await trx('igny8_credit_transactions').insert({
        [shape.of('igny8_credit_transactions')]: corrected.id,
        transaction_type: 'adjustment',
        amount: 900,
        balance_after: 1000,
        metadata: JSON.stringify({ repair: 'signup-credit-shortfall', idempotency_key: `signup-credit-shortfall:${corrected.id}` }),
      });
      await trx(shape.accounts).where({ id: corrected.id }).update({ credits: 1000 });
      await makeAccount(trx, { plan: 'starter', grant: 100 }); // paid plans are not signup grants
      return [`account:${short.id}`];
    },
  }),
  'payment-method-drift': (name) => ({
    async plant(trx) {
      const noDefault = await makeAccount(trx, { plan: 'starter' });
      await trx('igny8_account_payment_methods').where({ id: noDefault.paymentMethodId }).update({ is_default: false });
      if (name === 'target') return [`account:${noDefault.id}`];
      const differs = await makeAccount(trx, { plan: 'growth' });
      await trx('igny8_subscriptions').where({ id: differs.subscriptionId }).update({ payment_method: 'paypal' });
      const twoDefaults = await makeAccount(trx, { plan: 'scale' });
      await trx('igny8_account_payment_methods').insert({ tenant_id: twoDefaults.id, type: 'stripe', is_default: true });
      return [`account:${noDefault.id}`, `account:${differs.id}`, `account:${twoDefaults.id}`];
    },
  }),
  'pending-payment-incomplete': () => ({
    async plant(trx) {
      const a = await makeAccount(trx, { plan: 'starter', status: 'pending_payment' });
      await trx('igny8_invoices').where({ id: a.invoiceId }).delete();
      await makeAccount(trx, { plan: 'growth', status: 'pending_payment' }); // complete
      return [`account:${a.id}`];
    },
  }),
  'invoice-billing-snapshot-missing': (name) => ({
    async plant(trx) {
      const a = await makeAccount(trx, { plan: 'starter' });
      await trx('igny8_invoices')
        .where({ id: a.invoiceId })
        .update(name === 'legacy' ? { billing_email: null } : { billing_snapshot: '{}' });
      if (name === 'target') {
        const backfilled = await makeAccount(trx, { plan: 'starter' });
        await trx('igny8_invoices')
          .where({ id: backfilled.invoiceId })
          .update({ billing_snapshot: JSON.stringify({ email: null, backfilled: true }) });
      }
      return [`invoice:${a.invoiceId}`];
    },
  }),
  'site-access-missing': () => ({
    async plant(trx) {
      const a = await makeAccount(trx, { plan: 'growth', sites: 2 });
      await trx('igny8_site_user_access').where({ site_id: a.siteIds[1] }).delete();
      return [`site:${a.siteIds[1]}`];
    },
  }),
  'plaintext-credentials': (name) => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx);
      const b = await makeAccount(trx);
      const integration = async (fixture: Fixture, credentials: unknown) => {
        const [row] = await trx('igny8_site_integrations')
          .insert({
            [shape.of('igny8_site_integrations')]: fixture.id,
            site_id: fixture.siteIds[0],
            platform: 'wordpress',
            credentials_json: JSON.stringify(credentials),
          })
          .returning('id');
        return Number((row as { id: number }).id);
      };
      const plain = await integration(a, { username: 'editor', app_password: 'wp-app-pa55-ünïcödé' });
      await integration(b, { username: 'editor', app_password: { v: 1, alg: 'aes-256-gcm', iv: 'x', tag: 'y', ct: 'z' } });
      // An empty string is no secret: not a finding.
      await integration(await makeAccount(trx), { username: 'editor', api_key: '' });
      if (name === 'target') return [`integration:${plain}`];
      const c = await makeAccount(trx);
      await trx('igny8_sites').where({ id: c.siteIds[0] }).update({ wp_app_password: 'wp-app-pa55-ünïcödé', wp_api_key: 'sk_live_wp_api_key_123' });
      return [`integration:${plain}`, `site:${c.siteIds[0]}`];
    },
  }),
  'cross-tenant-reference': (name) => ({
    async plant(trx) {
      if (name === 'target') return 'enforced';
      const a = await makeAccount(trx, { plan: 'growth', sites: 2 });
      const b = await makeAccount(trx, { plan: 'growth', sites: 2 });
      await trx('igny8_sectors').where({ id: a.sectorIds[1] }).update({ site_id: b.siteIds[0], slug: 'moved' });
      const [access] = await trx('igny8_site_user_access')
        .insert({ user_id: a.ownerId, site_id: b.siteIds[1] })
        .returning('id');
      await trx('igny8_invoices').where({ id: a.invoiceId }).update({ subscription_id: b.subscriptionId });
      return [`sector:${a.sectorIds[1]}`, `access:${(access as { id: number }).id}`, `invoice:${a.invoiceId}`].sort();
    },
  }),
  'ledger-negative-balance': (name) => ({
    async plant(trx, shape) {
      if (name === 'target') return 'enforced';
      const a = await makeAccount(trx);
      const [row] = await trx('igny8_credit_transactions')
        .insert({ [shape.of('igny8_credit_transactions')]: a.id, transaction_type: 'deduction', amount: -1200, balance_after: -200 })
        .returning('id');
      return [`ledger:${(row as { id: number }).id}`];
    },
  }),
  'paid-invoice-credits-missing': (name) => ({
    async plant(trx) {
      if (name === 'legacy') return 'not-applicable';
      const paid = (a: Fixture, metadata: Record<string, unknown>) =>
        trx('igny8_invoices').where({ id: a.invoiceId }).update({ status: 'paid', paid_at: new Date(), metadata: JSON.stringify(metadata) });
      const a = await makeAccount(trx, { plan: 'starter' });
      await paid(a, { source: 'registration', plan: 'starter' });
      // Credited: its keyed row exists. Legacy (no source) and upgrade invoices are not judged.
      const b = await makeAccount(trx, { plan: 'growth' });
      await paid(b, { source: 'renewal', plan: 'growth' });
      const [invoice] = await trx('igny8_invoices').where({ id: b.invoiceId }).select('invoice_number');
      await trx('igny8_credit_transactions').insert({
        account_id: b.id, transaction_type: 'subscription', amount: 0, balance_after: 2000, description: 'period', idempotency_key: invoice.invoice_number,
      });
      await paid(await makeAccount(trx, { plan: 'starter' }), {});
      await paid(await makeAccount(trx, { plan: 'starter' }), { source: 'proration', plan: 'growth' });
      return [`invoice:${a.invoiceId}`];
    },
  }),
  'subscription-period-stale': (name) => ({
    async plant(trx) {
      if (name === 'legacy') return 'not-applicable';
      const a = await makeAccount(trx, { plan: 'starter' });
      const b = await makeAccount(trx, { plan: 'starter' });
      const c = await makeAccount(trx, { plan: 'starter' });
      await trx('igny8_subscriptions').where({ id: a.subscriptionId }).update({ current_period_end: trx.raw(`now() - interval '3 days'`) });
      await trx('igny8_subscriptions').where({ id: b.subscriptionId }).update({ current_period_end: trx.raw(`now() - interval '1 hour'`) });
      await trx('igny8_subscriptions')
        .where({ id: c.subscriptionId })
        .update({ status: 'canceled', current_period_end: trx.raw(`now() - interval '9 days'`) });
      // Judged once igny8 bills.
      await trx('igny8_billing_runs').insert({ id: '00000000-0000-4000-8000-000000000001', as_of: new Date(), grace_days: 14, ran_by: 'test', igny8_version: '0.0.0' });
      return [`subscription:${a.subscriptionId}`];
    },
  }),
  'inactive-account-activity': (name) => ({
    async plant(trx) {
      if (name === 'legacy') return 'not-applicable';
      const a = await makeAccount(trx);
      await trx('igny8_accounts').where({ id: a.id }).update({ status: 'suspended' });
      const later = trx.raw(`now() + interval '1 hour'`);
      const industry = await idOf(trx, 'igny8_industries', { slug: 'technology' });
      const [site] = await trx('igny8_sites')
        .insert({ account_id: a.id, name: 'Late', slug: 'late', industry_id: industry, created_at: later })
        .returning('id');
      const ledger = (amount: number, metadata: Record<string, unknown>) =>
        trx('igny8_credit_transactions')
          .insert({ account_id: a.id, transaction_type: 'adjustment', amount, balance_after: 1000 + amount, description: 'x', metadata: JSON.stringify(metadata), created_at: later })
          .returning('id');
      const [grant] = await ledger(5, {});
      // A payment's credits are how a suspended account comes back: not judged.
      await trx('igny8_credit_transactions').insert({
        account_id: a.id, transaction_type: 'subscription', amount: 0, balance_after: 1005, description: 'paid', metadata: JSON.stringify({ invoice: 'INV-1' }), created_at: later,
      });
      return [`grant:${(grant as { id: number }).id}`, `site:${(site as { id: number }).id}`];
    },
  }),
  'credentials-undecryptable': () => ({
    async plant(trx, shape) {
      const a = await makeAccount(trx, { sites: 2 });
      const integration = async (siteId: number, credentials: Record<string, unknown>) => {
        const [row] = await trx('igny8_site_integrations')
          .insert({ [shape.of('igny8_site_integrations')]: a.id, site_id: siteId, platform: 'custom', credentials_json: JSON.stringify(credentials) })
          .returning('id');
        return Number((row as { id: number }).id);
      };
      // One under another key; one under the given key whose ciphertext was altered.
      const other = await integration(a.siteIds[0]!, { api_key: encryptSecret('sk-other', Buffer.alloc(32, 7)) });
      const altered = encryptSecret('sk-altered', TEST_CREDENTIAL_KEY);
      const tampered = await integration(a.siteIds[1]!, { api_key: { ...altered, ct: Buffer.from('nonsense').toString('base64') } });
      return [`integration:${other}`, `integration:${tampered}`];
    },
  }),
};

/** Where a check does not run: enforced by the target's constraints, or not applicable. */
const NOT_RUN: Record<ShapeName, Record<string, string>> = {
  legacy: Object.fromEntries(
    ['subscription-plan-missing', 'subscription-plan-drift', 'paid-invoice-credits-missing', 'subscription-period-stale', 'inactive-account-activity'].map(
      (id) => [id, 'not-applicable'],
    ),
  ),
  target: {
    ...Object.fromEntries(
      ['orphan-users', 'multiple-owners', 'duplicate-emails', 'site-industry-null', 'subscription-plan-missing', 'cross-tenant-reference'].map(
        (id) => [id, 'enforced'],
      ),
    ),
    'owner-role-mismatch': 'not-applicable',
    'ledger-negative-balance': 'enforced',
  },
};

describe('check cases', () => {
  it('cover every check of the registry', () => {
    expect(Object.keys(CASES).sort()).toEqual(RULES.map((c) => c.id).sort());
  });
});

for (const name of ['legacy', 'target'] as const) {
  describeEachDatabase(
    `checks on the ${name} shape`,
    (fixture) => {
      it('every check finds nothing on clean accounts of every plan', async () => {
        await inRollback(fixture.db.knex, async (trx) => {
          await makeAccount(trx);
          await makeAccount(trx, { plan: 'starter', members: 1 });
          await makeAccount(trx, { plan: 'growth', members: 2, sites: 2 });
          await makeAccount(trx, { plan: 'scale', members: 2, sites: 3, status: 'pending_payment' });
          for (const { id } of RULES) {
            const found = await keys(trx, id);
            expect([id, found]).toEqual([id, NOT_RUN[name][id] ?? []]);
          }
        });
      });

      for (const { id } of RULES) {
        it(`${id} finds exactly the planted rows`, async () => {
          await inRollback(fixture.db.knex, async (trx) => {
            await makeAccount(trx, { plan: 'growth', members: 1, sites: 2 }); // a clean neighbour
            const expected = await CASES[id](name).plant(trx, await shapeOf(trx));
            const found = await keys(trx, id);
            expect(found).toEqual(typeof expected === 'string' ? expected : [...expected].sort());
            if (typeof found !== 'string' && id !== 'plan-catalog-drift') {
              // Scoped to the neighbour's account, nothing of the plant shows.
              const [neighbour] = await trx((await shapeOf(trx)).accounts).orderBy('id').limit(1).select('id');
              expect(await keys(trx, id, Number(neighbour.id))).toEqual([]);
            }
          });
        });
      }
    },
    { setup: (t) => prepareDatabase(t.db, name) },
  );
}
