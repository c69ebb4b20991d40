import type { Knex } from 'knex';
import { beforeAll, expect, it } from 'vitest';
import { connect, type Database } from '../../src/db/connect.js';
import { withTransaction } from '../../src/db/transaction.js';
import { syncCatalog } from '../../src/domain/catalog.js';
import { registerAccount } from '../../src/domain/register.js';
import * as api from '../../src/index.js';
import type { RegisterInput } from '../../src/domain/inputs.js';
import { billingSnapshot } from '../../src/domain/invoices.js';
import { verifyPassword } from '../../src/domain/passwords.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { describeEachDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';
import { createMigratedDatabase } from '../helpers/templates.js';
import { inRollback, keys } from '../helpers/check-fixtures.js';
import { brokenLedgerRows, countRows, FAST_SCRYPT, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';

function paidInput(overrides: Partial<RegisterInput> = {}): RegisterInput {
  return {
    email: uniqueEmail('paid'),
    password: 'Test123!',
    accountName: uniqueName('Paid Account'),
    plan: 'starter',
    paymentMethod: 'bank_transfer',
    billingAddress: '1 Main St',
    billingCity: 'Springfield',
    billingCountry: 'US',
    ...overrides,
  };
}

describeEachDatabase('registration', (fx) => {
  it('free plan: active account, owner, 1,000 credits through one ledger row, no subscription', async () => {
    const email = uniqueEmail('free');
    const r = await registerAccount(
      fx.db.knex,
      { email, password: 'Test123!', accountName: 'Test Account', plan: 'free' },
      { scryptCost: FAST_SCRYPT },
    );
    expect(r.account).toMatchObject({ status: 'active', credits: 1000, billingEmail: email });
    const knex = fx.db.knex;
    const [account] = await knex('igny8_accounts').where('id', r.account.id);
    expect(account).toMatchObject({ status: 'active', credits: 1000, billing_email: email });
    const users = await knex('igny8_users').where('account_id', r.account.id);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ email, role: 'owner', is_active: true });
    expect(await verifyPassword('Test123!', users[0].password)).toBe(true);
    const ledger = await knex('igny8_credit_transactions').where('account_id', r.account.id);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ amount: 1000, balance_after: 1000, transaction_type: 'subscription', idempotency_key: 'signup' });
    expect(await knex('igny8_subscriptions').where('account_id', r.account.id)).toHaveLength(0);
    expect(await knex('igny8_invoices').where('account_id', r.account.id)).toHaveLength(0);
    expect(await knex('igny8_account_payment_methods').where('account_id', r.account.id)).toHaveLength(0);
  });

  it('paid plan: pending account, subscription with plan and period, invoice, default payment method', async () => {
    const input = paidInput();
    const r = await registerAccount(fx.db.knex, input, { scryptCost: FAST_SCRYPT });
    const knex = fx.db.knex;
    const [account] = await knex('igny8_accounts').where('id', r.account.id);
    expect(account).toMatchObject({ status: 'pending_payment', credits: 0 });
    const [starter] = await knex('igny8_plans').where('slug', 'starter');
    expect(account.plan_id).toBe(starter.id);
    const [user] = await knex('igny8_users').where('account_id', r.account.id);
    expect(user).toMatchObject({ email: input.email, role: 'owner' });
    const subscriptions = await knex('igny8_subscriptions').where('account_id', r.account.id);
    expect(subscriptions).toHaveLength(1);
    const [subscription] = subscriptions;
    expect(subscription).toMatchObject({ plan_id: starter.id, status: 'pending_payment', cancel_at_period_end: false });
    const days = (subscription.current_period_end.getTime() - subscription.current_period_start.getTime()) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(28);
    expect(days).toBeLessThanOrEqual(31);
    const invoices = await knex('igny8_invoices').where('account_id', r.account.id);
    expect(invoices).toHaveLength(1);
    const [invoice] = invoices;
    expect(invoice).toMatchObject({
      subscription_id: subscription.id,
      status: 'pending',
      subtotal: '89.00',
      tax: '0.00',
      total: '89.00',
      currency: 'USD',
    });
    expect(invoice.invoice_number).toMatch(/^INV-\d{8}$/);
    expect(invoice.billing_snapshot).toEqual({
      email: input.email,
      name: input.accountName,
      address_line1: '1 Main St',
      city: 'Springfield',
      country: 'US',
    });
    expect(invoice.line_items).toEqual([
      expect.objectContaining({ plan: 'starter', quantity: 1, unit_price: '89.00', amount: '89.00' }),
    ]);
    const methods = await knex('igny8_account_payment_methods').where('account_id', r.account.id);
    expect(methods).toHaveLength(1);
    expect(methods[0]).toMatchObject({ type: 'bank_transfer', display_name: 'Bank transfer', is_default: true, is_enabled: true, is_verified: false });
    expect(await knex('igny8_credit_transactions').where('account_id', r.account.id)).toHaveLength(0);
  });

  it("a billing snapshot of an account whose billing email is empty takes the owner's email", async () => {
    const input = paidInput();
    const r = await registerAccount(fx.db.knex, input, { scryptCost: FAST_SCRYPT });
    await fx.db.knex('igny8_accounts').where('id', r.account.id).update({ billing_email: '' });
    const snapshot = await withTransaction(fx.db.knex, (trx) => billingSnapshot(trx, r.account.id));
    expect(snapshot).toEqual({ email: input.email, name: input.accountName, address_line1: '1 Main St', city: 'Springfield', country: 'US' });
  });

  it('paid plan without a payment method defaults to stripe; invoice numbers are unique', async () => {
    const a = await registerAccount(fx.db.knex, paidInput({ paymentMethod: undefined, plan: 'growth' }), { scryptCost: FAST_SCRYPT });
    const b = await registerAccount(fx.db.knex, paidInput({ plan: 'scale' }), { scryptCost: FAST_SCRYPT });
    expect(a.paymentMethod?.type).toBe('stripe');
    expect(a.invoice?.total).toBe('139.00');
    expect(a.invoice?.number).not.toBe(b.invoice?.number);
    expect(a.account.billingEmail).toBe(a.user.email);
  });

  it('the same email in another case is refused and writes nothing', async () => {
    const email = uniqueEmail('Case');
    await registerAccount(fx.db.knex, { email, password: 'Test123!', accountName: 'First', plan: 'free' }, { scryptCost: FAST_SCRYPT });
    const before = await countRows(fx.db.knex);
    const attempt = registerAccount(
      fx.db.knex,
      { email: email.toUpperCase(), password: 'Test123!', accountName: 'Second', plan: 'starter' },
      { scryptCost: FAST_SCRYPT },
    );
    await expect(attempt).rejects.toBeInstanceOf(DomainRefusal);
    await expect(attempt).rejects.toThrow('email already registered');
    expect(await countRows(fx.db.knex)).toEqual(before);
  });

  it('an unknown or inactive plan is a validation error naming the plan', async () => {
    const before = await countRows(fx.db.knex);
    await expect(
      registerAccount(fx.db.knex, paidInput({ plan: 'platinum' }), { scryptCost: FAST_SCRYPT }),
    ).rejects.toThrow(new ValidationError('plan', 'no plan "platinum" (run `igny8 catalog show` for the plans)'));
    expect(await countRows(fx.db.knex)).toEqual(before);
  });

  it('refuses a plan the audit reports as drifted, by the same comparison: a renamed plan, changed features', async () => {
    const knex = fx.db.knex;
    await knex('igny8_plans').where('slug', 'starter').update({ name: 'Starter (old)', features: JSON.stringify(['1 site']) });
    try {
      const audited = await inRollback(knex, (trx) => keys(trx, 'plan-catalog-drift'));
      expect(audited).toEqual(['plan:starter']);
      const attempt = registerAccount(knex, paidInput(), { scryptCost: FAST_SCRYPT });
      await expect(attempt).rejects.toThrow('plan "starter" differs from the catalog: run `igny8 catalog sync` first');
      await expect(attempt).rejects.toMatchObject({
        details: ['name Starter (old), catalog Starter', expect.stringMatching(/^features \["1 site"\], catalog \["1 site",/)],
      });
    } finally {
      await withTransaction(knex, (trx) => syncCatalog(trx));
    }
    expect(await inRollback(knex, (trx) => keys(trx, 'plan-catalog-drift'))).toEqual([]);
  });

  it('refuses while a plan differs from the catalog (free with 100 credits), until catalog sync', async () => {
    const knex = fx.db.knex;
    await knex('igny8_plans').where('slug', 'free').update({ included_credits: 100 });
    try {
      const before = await countRows(knex);
      const attempt = registerAccount(knex, { email: uniqueEmail('drift'), password: 'Test123!', accountName: 'Drift', plan: 'free' }, {
        scryptCost: FAST_SCRYPT,
      });
      await expect(attempt).rejects.toThrow('plan "free" differs from the catalog: run `igny8 catalog sync` first');
      await expect(attempt).rejects.toMatchObject({ details: ['included_credits 100, catalog 1000'] });
      expect(await countRows(knex)).toEqual(before);
    } finally {
      await withTransaction(knex, (trx) => syncCatalog(trx));
    }
    const r = await registerAccount(knex, { email: uniqueEmail('synced'), password: 'Test123!', accountName: 'Synced', plan: 'free' }, {
      scryptCost: FAST_SCRYPT,
    });
    expect(r.account.credits).toBe(1000);
  });

  it('validates its input itself (the programmatic API), writing nothing', async () => {
    const before = await countRows(fx.db.knex);
    const cases: Array<[Partial<RegisterInput>, string]> = [
      [{ accountName: 'x'.repeat(10_240) }, 'accountName: must be at most 255 characters'],
      [{ accountName: 'Bell\u0007Co' }, 'accountName: must not contain control characters'],
      [{ email: 'no-at-sign' }, 'email: must be a valid email address'],
      [{ password: 'short' }, 'password: must be at least 8 characters'],
      [{ billingCountry: 'USA' }, 'billingCountry: must be a two-letter country code'],
    ];
    for (const [override, message] of cases) {
      await expect(api.register(fx.db.knex, paidInput(override), { scryptCost: FAST_SCRYPT })).rejects.toThrow(
        new ValidationError(message.split(':')[0], message.slice(message.indexOf(':') + 2)),
      );
    }
    expect(await countRows(fx.db.knex)).toEqual(before);
  });

  it('stores names with SQL metacharacters verbatim, as data', async () => {
    const name = `Robert'); DROP TABLE igny8_users; -- ${uniqueName('x')}`;
    const r = await registerAccount(fx.db.knex, { email: uniqueEmail('bobby'), password: 'Test123!', accountName: name, plan: 'free' }, {
      scryptCost: FAST_SCRYPT,
    });
    const [account] = await fx.db.knex('igny8_accounts').where('id', r.account.id);
    expect(account.name).toBe(name);
    expect(account.slug).toMatch(/^robert-drop-table-igny8-users-x-[0-9a-f]{8}$/);
    const [{ n }] = (await fx.db.knex('igny8_users').count({ n: '*' })) as Array<{ n: number }>;
    expect(n).toBeGreaterThan(0); // the table is still there
  });

  it('account slugs stay unique: the same name gets a numeric suffix', async () => {
    const name = uniqueName('Same Name');
    const slugs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await registerAccount(fx.db.knex, { email: uniqueEmail('slug'), password: 'Test123!', accountName: name, plan: 'free' }, {
        scryptCost: FAST_SCRYPT,
      });
      slugs.push(r.account.slug);
    }
    const base = name.toLowerCase().replace(/ /g, '-');
    expect(slugs).toEqual([base, `${base}-2`, `${base}-3`]);
  });

  it.each(['starter', 'free'])('a failure after any statement of a %s registration leaves nothing behind', async (plan) => {
    const knex = fx.db.knex;
    // First, count the statements of one registration (after a first one: the schema probe runs once per handle).
    await registerAccount(knex, paidInput({ plan }), { scryptCost: FAST_SCRYPT });
    let statements = 0;
    const count = () => void statements++;
    knex.on('query-response', count);
    await registerAccount(knex, paidInput({ plan }), { scryptCost: FAST_SCRYPT });
    knex.removeListener('query-response', count);
    expect(statements).toBeGreaterThanOrEqual(plan === 'free' ? 5 : 8);
    console.info(`${plan} registration: a fault injected after each of its ${statements} statements`);

    for (let failAt = 1; failAt <= statements; failAt++) {
      const before = await countRows(knex);
      let seen = 0;
      const fault = () => {
        seen++;
        if (seen === failAt) throw new Error(`injected fault after statement ${failAt}`);
      };
      knex.on('query-response', fault);
      try {
        await expect(registerAccount(knex, paidInput({ plan }), { scryptCost: FAST_SCRYPT })).rejects.toThrow(
          `injected fault after statement ${failAt}`,
        );
      } finally {
        knex.removeListener('query-response', fault);
      }
      expect(await countRows(knex), `after a fault at statement ${failAt}`).toEqual(before);
    }
    // And the database still accepts the registration.
    await registerAccount(knex, paidInput({ plan }), { scryptCost: FAST_SCRYPT });
  });
}, { migrated: true });

describeOnServer('registration under concurrency [postgres]', () => {
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await createMigratedDatabase('postgres');
    db = await connect({ databaseUrl: t.url, poolMax: 20 });
    return async () => {
      await db.close();
      await t.drop();
    };
  });

  it('20 concurrent registrations with case variants of one email: exactly one account, no orphans', async () => {
    const local = `race-${Date.now()}`;
    const variants = Array.from({ length: 20 }, (_, i) => {
      const email = `${local}@example.com`;
      return [...email].map((ch, j) => ((i >> j % 5) & 1 ? ch.toUpperCase() : ch)).join('');
    });
    const before = await countRows(db.knex);
    const results = await Promise.allSettled(
      variants.map((email, i) =>
        registerAccount(db.knex, { email, password: 'Test123!', accountName: `Race ${i}`, plan: i % 2 ? 'starter' : 'free' }, {
          scryptCost: FAST_SCRYPT,
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const failure of lost) {
      expect(failure.reason).toBeInstanceOf(DomainRefusal);
      expect(failure.reason.message).toBe('email already registered');
    }
    const after = await countRows(db.knex);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof registerAccount>>>).value;
    const paid = winner.plan.paid ? 1 : 0;
    expect(after.igny8_accounts - before.igny8_accounts).toBe(1);
    expect(after.igny8_users - before.igny8_users).toBe(1);
    expect(after.igny8_subscriptions - before.igny8_subscriptions).toBe(paid);
    expect(after.igny8_invoices - before.igny8_invoices).toBe(paid);
    expect(after.igny8_account_payment_methods - before.igny8_account_payment_methods).toBe(paid);
    expect(after.igny8_credit_transactions - before.igny8_credit_transactions).toBe(1 - paid);
    const [{ orphans }] = (await db.knex('igny8_accounts as a')
      .whereNotExists((q: Knex.QueryBuilder) => q.from('igny8_users as u').whereRaw('u.account_id = a.id').andWhere('u.role', 'owner'))
      .count({ orphans: '*' })) as Array<{ orphans: number }>;
    expect(orphans).toBe(0);
    if (!paid) expect(await brokenLedgerRows(db.knex, winner.account.id)).toBe(0);
  });

  it('concurrent registrations of distinct emails and one account name all succeed with unique slugs and invoice numbers', async () => {
    const name = uniqueName('Crowd');
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        registerAccount(db.knex, paidInput({ accountName: name }), { scryptCost: FAST_SCRYPT }),
      ),
    );
    expect(new Set(results.map((r) => r.account.slug)).size).toBe(12);
    expect(new Set(results.map((r) => r.invoice?.number)).size).toBe(12);
  });
});

