// A small legacy-shaped dataset holding every kind of value the migrations touch, the awkward
// ones included: NULL max_industries, credits only in credits_per_month, a credits_per_month
// that cannot be folded, an invoice billing email that differs from the account's, an empty
// one, three payment-method places that disagree, an owner_id naming an admin, unicode
// WordPress credentials, an integration that already existed, plaintext integration secrets.
import type { Knex } from 'knex';
import type { Database } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { registerTestSecret } from './cli.js';

export const LEGACY_SECRETS = {
  acmeAppPassword: 'wp-app-pa55-ünïcödé',
  acmeApiKey: 'sk_live_wp_api_key_123',
  bravoAppPassword: 'Bravo-Old-Pa55-Ω',
  charlieToken: 'shpat_plain_token_xyz',
} as const;
for (const secret of Object.values(LEGACY_SECRETS)) registerTestSecret(secret);

/** Applies only the legacy baseline (0001) to an empty database. */
export async function createLegacySchema(db: Database): Promise<void> {
  const run = await migrateLatest(db, { to: '0001_legacy_baseline' });
  if (run.error) throw run.error;
}

export interface LegacyFixture {
  plans: { free: number; proLegacy: number; mix: number };
  industries: { tech: number; food: number };
  industrySectors: { saas: number; bakery: number };
  accounts: { acme: number; bravo: number; charlie: number; delta: number };
  users: { a1: number; a2: number; b1: number; c1: number; d1: number; d2: number };
  subscriptions: { acme: number; bravo: number };
  paymentMethods: { acmeStripe: number; charliePaypal: number };
  invoices: { acmeOwnEmail: number; acmeNoEmail: number; bravoEmpty: number; charlieRepaired: number };
  sites: { acmeBlog: number; acmeShop: number; bravo: number; charlie: number };
  integrations: { bravoWordpress: number; charlieShopify: number; acmeCustom: number };
  ledger: { first: number; second: number };
}

async function insert(knex: Knex | Knex.Transaction, table: string, row: Record<string, unknown>): Promise<number> {
  const [{ id }] = await knex(table).insert(row).returning('id');
  return Number(id);
}

const json = (value: unknown) => JSON.stringify(value);

/** Inserts the dataset into a database in the legacy shape, in one transaction. */
export async function insertLegacyFixture(knex: Knex): Promise<LegacyFixture> {
  return knex.transaction(async (trx) => {
    const plans = {
      free: await insert(trx, 'igny8_plans', { name: 'Free Plan', slug: 'free', included_credits: 100, max_industries: 1 }),
      // Credits only in the deprecated column; NULL sector limit (meant 5).
      proLegacy: await insert(trx, 'igny8_plans', {
        name: 'Pro (legacy)', slug: 'pro-legacy', price: '49.00', included_credits: 0, credits_per_month: 5000,
        max_sites: 5, max_users: 5, max_industries: null, features: json(['5 sites']),
      }),
      // Both credit columns set and different: cannot be folded.
      mix: await insert(trx, 'igny8_plans', {
        name: 'Mixed', slug: 'mix', price: '19.00', included_credits: 2000, credits_per_month: 3000, max_industries: 0,
      }),
    };
    const industries = {
      tech: await insert(trx, 'igny8_industries', { name: 'Technology', slug: 'tech' }),
      food: await insert(trx, 'igny8_industries', { name: 'Food', slug: 'food' }),
    };
    const industrySectors = {
      saas: await insert(trx, 'igny8_industry_sectors', { industry_id: industries.tech, name: 'SaaS', slug: 'saas' }),
      bakery: await insert(trx, 'igny8_industry_sectors', { industry_id: industries.food, name: 'Bakery', slug: 'bakery' }),
    };
    const accounts = {
      acme: await insert(trx, 'igny8_tenants', {
        name: 'Acme Größe', slug: 'acme', plan_id: plans.proLegacy, credits: 150, status: 'active', payment_method: 'paypal',
        billing_email: 'billing@acme.example', billing_address_line1: 'Hauptstraße 1', billing_city: 'Zürich', billing_country: 'CH',
      }),
      bravo: await insert(trx, 'igny8_tenants', { name: 'Bravo', slug: 'bravo', plan_id: plans.mix, status: 'active', payment_method: 'stripe' }),
      charlie: await insert(trx, 'igny8_tenants', { name: 'Charlie', slug: 'charlie', plan_id: plans.free, credits: 1000, payment_method: 'manual' }),
      delta: await insert(trx, 'igny8_tenants', { name: 'Delta', slug: 'delta', plan_id: plans.free, payment_method: 'stripe' }),
    };
    const user = (email: string, role: string, account: number) =>
      insert(trx, 'igny8_users', { email, password: 'pbkdf2_sha256$600000$salt$hash=', role, tenant_id: account, first_name: 'Zoë' });
    const users = {
      a1: await user('Ann@Acme.example', 'admin', accounts.acme), // owner_id names an admin
      a2: await user('ed@acme.example', 'editor', accounts.acme),
      b1: await user('boss@bravo.example', 'owner', accounts.bravo),
      c1: await user('chief@charlie.example', 'owner', accounts.charlie), // owner_id stays NULL
      d1: await user('old-owner@delta.example', 'owner', accounts.delta),
      d2: await user('new-owner@delta.example', 'admin', accounts.delta), // owner_id names d2, d1 is role owner
    };
    await trx.raw(
      `update igny8_tenants t set owner_id = v.owner from (values (?::bigint, ?::bigint), (?, ?), (?, ?)) v(id, owner) where t.id = v.id`,
      [accounts.acme, users.a1, accounts.bravo, users.b1, accounts.delta, users.d2],
    );
    const period = { current_period_start: '2025-11-01T00:00:00Z', current_period_end: '2025-12-01T00:00:00Z' };
    const subscriptions = {
      acme: await insert(trx, 'igny8_subscriptions', { tenant_id: accounts.acme, payment_method: 'bank_transfer', status: 'active', ...period }),
      bravo: await insert(trx, 'igny8_subscriptions', { tenant_id: accounts.bravo, payment_method: 'paypal', status: 'past_due', ...period }),
    };
    const paymentMethods = {
      // Acme: account says paypal, subscription says bank_transfer, the default row says stripe.
      acmeStripe: await insert(trx, 'igny8_account_payment_methods', { tenant_id: accounts.acme, type: 'stripe', display_name: 'Visa •••• 4242', is_default: true }),
      charliePaypal: await insert(trx, 'igny8_account_payment_methods', { tenant_id: accounts.charlie, type: 'paypal', is_default: false }),
    };
    const invoice = (account: number, number: string, email: string | null, subscription: number | null, metadata = {}) =>
      insert(trx, 'igny8_invoices', {
        tenant_id: account, subscription_id: subscription, invoice_number: number, status: 'paid', subtotal: '49.00',
        total: '49.00', invoice_date: '2025-11-01', due_date: '2025-11-15', billing_email: email,
        line_items: json([{ description: 'Pro (legacy)', amount: '49.00' }]), metadata: json(metadata),
      });
    const invoices = {
      acmeOwnEmail: await invoice(accounts.acme, 'INV-A-1', 'ap@acme-old.example', subscriptions.acme),
      acmeNoEmail: await invoice(accounts.acme, 'INV-A-2', null, subscriptions.acme),
      bravoEmpty: await invoice(accounts.bravo, 'INV-B-1', '', subscriptions.bravo),
      // A snapshot a legacy-shape repair already wrote into metadata.
      charlieRepaired: await invoice(accounts.charlie, 'INV-C-1', null, null, {
        billing_snapshot: { email: 'repair@charlie.example', name: 'Charlie', backfilled: true },
      }),
    };
    const ledger = {
      first: await insert(trx, 'igny8_credit_transactions', { tenant_id: accounts.acme, transaction_type: 'subscription', amount: 100, balance_after: 100 }),
      second: await insert(trx, 'igny8_credit_transactions', {
        tenant_id: accounts.acme, transaction_type: 'purchase', amount: 50, balance_after: 150,
        metadata: json({ idempotency_key: 'grant-1' }),
      }),
    };
    const sites = {
      acmeBlog: await insert(trx, 'igny8_sites', {
        tenant_id: accounts.acme, name: 'Acme Blog', slug: 'acme-blog', industry_id: industries.tech,
        wp_url: 'https://acme.example', wp_username: 'wörd-admin',
        wp_app_password: LEGACY_SECRETS.acmeAppPassword, wp_api_key: LEGACY_SECRETS.acmeApiKey,
      }),
      acmeShop: await insert(trx, 'igny8_sites', { tenant_id: accounts.acme, name: 'Acme Shop', slug: 'acme-shop', industry_id: industries.tech }),
      bravo: await insert(trx, 'igny8_sites', {
        tenant_id: accounts.bravo, name: 'Bravo', slug: 'bravo', industry_id: industries.food,
        wp_url: 'https://old.bravo.example', wp_app_password: LEGACY_SECRETS.bravoAppPassword,
      }),
      charlie: await insert(trx, 'igny8_sites', { tenant_id: accounts.charlie, name: 'Charlie', slug: 'charlie', industry_id: industries.food }),
    };
    await insert(trx, 'igny8_sectors', { tenant_id: accounts.acme, site_id: sites.acmeBlog, industry_sector_id: industrySectors.saas, name: 'SaaS', slug: 'saas' });
    await insert(trx, 'igny8_site_user_access', { user_id: users.a2, site_id: sites.acmeBlog, granted_by_id: users.a1 });
    const integrations = {
      bravoWordpress: await insert(trx, 'igny8_site_integrations', {
        tenant_id: accounts.bravo, site_id: sites.bravo, platform: 'wordpress',
        config_json: json({ url: 'https://new.bravo.example' }), credentials_json: json({ username: 'bravo-new' }),
      }),
      charlieShopify: await insert(trx, 'igny8_site_integrations', {
        tenant_id: accounts.charlie, site_id: sites.charlie, platform: 'shopify',
        config_json: json({ shop: 'charlie.myshopify.com' }), credentials_json: json({ access_token: LEGACY_SECRETS.charlieToken, scope: 'read' }),
      }),
      // Not an object at all: left exactly as it is.
      acmeCustom: await insert(trx, 'igny8_site_integrations', {
        tenant_id: accounts.acme, site_id: sites.acmeShop, platform: 'custom', credentials_json: json(['legacy-list']),
      }),
    };
    return { plans, industries, industrySectors, accounts, users, subscriptions, paymentMethods, invoices, sites, integrations, ledger };
  });
}

/** A fixed test key (64 hex characters) for the encryption. */
export const TEST_SECRET_KEY = 'a1'.repeat(32);
