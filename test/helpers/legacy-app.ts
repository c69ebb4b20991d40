// The legacy (Django) application as the database sees it: the statements it issues for its
// flows, written from the gap analysis and the legacy schema (migration 0001). Signup writes
// the user without an account, then the account naming it as owner, then links the user (seed
// #3); a paid signup adds a subscription without a plan (#1, #2) and writes the payment method
// in three places (#8); a site may have no industry (#4) and never gets an access row (#10);
// credits are read, changed in Python and saved back with the whole row, then a ledger row is
// added (#11); WordPress credentials go to the wp_* columns in plaintext (#12); the free plan's
// credits come from its row (#5). Django saves every column of a model, so updates are whole rows.
//
// Statements use `?` placeholders. `legacyKnex` runs them in one transaction with the legacy
// application's search_path (igny8_legacy first: before expand that schema does not exist and
// the tables answer; after expand its views do); `toPgPlaceholders` serves a pg client.
import type { Knex } from 'knex';

export type Row = Record<string, unknown>;
/** Runs one statement, returning its rows. */
export type Sql = (text: string, params?: readonly unknown[]) => Promise<Row[]>;

export const LEGACY_SEARCH_PATH = 'igny8_legacy, public';

/** Every flow's statements in one transaction on `knex`, as the legacy application's connection. */
export async function legacyKnex<T>(knex: Knex, work: (sql: Sql) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw(`select set_config('search_path', ?, true)`, [LEGACY_SEARCH_PATH]);
    const sql: Sql = async (text, params = []) => (await trx.raw(text, [...params] as Knex.RawBinding[])).rows as Row[];
    return work(sql);
  });
}

/** `?` → `$1, $2, ...` for node-postgres (no statement here uses the jsonb ? operator). */
export function toPgPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

const one = async (sql: Sql, text: string, params: readonly unknown[] = []) => {
  const rows = await sql(text, params);
  if (rows.length !== 1) throw new Error(`expected one row from: ${text.slice(0, 60)}`);
  return rows[0];
};

const PASSWORD = 'pbkdf2_sha256$600000$legacyapp$hash=';

export interface Signup {
  tenant: number;
  user: number;
  subscription?: number;
  invoice?: number;
}

/** Account.save() as Django issues it: every column, updated_at now. */
async function saveTenant(sql: Sql, tenant: Row): Promise<void> {
  await sql(
    `update igny8_tenants set name = ?, slug = ?, owner_id = ?, plan_id = ?, credits = ?, status = ?, payment_method = ?,
            billing_email = ?, billing_address_line1 = ?, billing_city = ?, billing_country = ?, created_at = ?, updated_at = now()
      where id = ?`,
    [
      tenant.name, tenant.slug, tenant.owner_id, tenant.plan_id, tenant.credits, tenant.status, tenant.payment_method,
      tenant.billing_email, tenant.billing_address_line1, tenant.billing_city, tenant.billing_country, tenant.created_at, tenant.id,
    ],
  );
}

/** RegisterSerializer.create(): free plan, or a paid plan with a subscription, a payment method and an invoice. */
/** User.objects.filter(email__iexact=...).exists(): Django's case-insensitive lookup. */
export const EMAIL_TAKEN = `select 1 from igny8_users where upper(email::text) = upper(?) limit 1`;

export async function signup(
  sql: Sql,
  input: { email: string; slug: string; plan?: string; paymentMethod?: string; billingEmail?: string },
): Promise<Signup> {
  const plan = await one(sql, `select id, slug, price, included_credits, credits_per_month from igny8_plans where slug = ? and is_active`, [
    input.plan ?? 'free',
  ]);
  const taken = await sql(EMAIL_TAKEN, [input.email]);
  if (taken.length > 0) throw new Error(`email taken: ${input.email}`);
  const user = await one(
    sql,
    `insert into igny8_users (email, password, first_name, last_name, role, tenant_id, is_active, date_joined)
     values (?, ?, 'Legacy', 'User', 'owner', null, true, now()) returning id`,
    [input.email, PASSWORD],
  );
  // get_effective_credits_per_month()
  const credits = Number(plan.included_credits) > 0 ? Number(plan.included_credits) : Number(plan.credits_per_month);
  const paid = Number(plan.price) > 0;
  const method = input.paymentMethod ?? 'stripe';
  const tenant = await one(
    sql,
    `insert into igny8_tenants (name, slug, owner_id, plan_id, credits, status, payment_method, billing_email, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, now(), now()) returning id`,
    [`Legacy ${input.slug}`, input.slug, user.id, plan.id, credits, paid ? 'pending_payment' : 'trial', method, input.billingEmail ?? null],
  );
  await sql(`update igny8_users set tenant_id = ? where id = ?`, [tenant.id, user.id]);
  await sql(
    `insert into igny8_credit_transactions (tenant_id, transaction_type, amount, balance_after, description, metadata, created_at)
     values (?, 'subscription', ?, ?, ?, '{}', now())`,
    [tenant.id, credits, credits, `${plan.slug} plan credits`],
  );
  const result: Signup = { tenant: Number(tenant.id), user: Number(user.id) };
  if (!paid) return result;
  const subscription = await one(
    sql,
    `insert into igny8_subscriptions (tenant_id, payment_method, status, current_period_start, current_period_end, cancel_at_period_end, created_at, updated_at)
     values (?, ?, 'pending_payment', now(), now() + interval '1 month', false, now(), now()) returning id`,
    [tenant.id, method],
  );
  await sql(
    `insert into igny8_account_payment_methods (tenant_id, type, display_name, is_default, is_enabled, is_verified, instructions, metadata, created_at)
     values (?, ?, ?, true, true, false, '', '{}', now())`,
    [tenant.id, method, method],
  );
  const invoice = await one(
    sql,
    `insert into igny8_invoices (tenant_id, subscription_id, invoice_number, status, subtotal, tax, total, currency, invoice_date, due_date,
                                 billing_email, line_items, metadata, created_at)
     values (?, ?, ?, 'pending', ?, 0, ?, 'USD', current_date, current_date + 14, ?, ?, '{}', now()) returning id`,
    [
      tenant.id, subscription.id, `INV-L-${input.slug}`, plan.price, plan.price, input.billingEmail ?? input.email,
      JSON.stringify([{ description: plan.slug, amount: plan.price }]),
    ],
  );
  return { ...result, subscription: Number(subscription.id), invoice: Number(invoice.id) };
}

/** SiteViewSet.perform_create(): the industry is optional, and no access row is written. */
export async function createSite(sql: Sql, input: { tenant: number; slug: string; industry?: string }): Promise<number> {
  const industry = input.industry ? await one(sql, `select id from igny8_industries where slug = ?`, [input.industry]) : undefined;
  const site = await one(
    sql,
    `insert into igny8_sites (tenant_id, name, slug, domain, description, industry_id, is_active, status, created_at, updated_at)
     values (?, ?, ?, ?, '', ?, true, 'active', now(), now()) returning id`,
    [input.tenant, `Site ${input.slug}`, input.slug, `${input.slug}.example`, industry?.id ?? null],
  );
  return Number(site.id);
}

/** Sector.save(): the sector's industry sector must be of the site's industry (so a site needs one). */
export async function createSector(sql: Sql, input: { tenant: number; site: number; industrySector: string }): Promise<number> {
  const site = await one(sql, `select id, tenant_id, industry_id from igny8_sites where id = ?`, [input.site]);
  const sector = await one(sql, `select id, industry_id, name, slug from igny8_industry_sectors where slug = ? and industry_id = ?`, [
    input.industrySector,
    site.industry_id,
  ]);
  const row = await one(
    sql,
    `insert into igny8_sectors (tenant_id, site_id, industry_sector_id, name, slug, is_active, created_at)
     values (?, ?, ?, ?, ?, true, now()) returning id`,
    [input.tenant, input.site, sector.id, sector.name, sector.slug],
  );
  return Number(row.id);
}

/** account.credits += amount; account.save(); then the ledger row (no service layer, seed #11). */
export async function changeCredits(sql: Sql, input: { tenant: number; amount: number; type: string }): Promise<number> {
  const tenant = await one(sql, `select * from igny8_tenants where id = ?`, [input.tenant]);
  const balance = Number(tenant.credits) + input.amount;
  await saveTenant(sql, { ...tenant, credits: balance });
  await sql(
    `insert into igny8_credit_transactions (tenant_id, transaction_type, amount, balance_after, description, metadata, created_at)
     values (?, ?, ?, ?, ?, '{}', now())`,
    [input.tenant, input.type, input.amount, balance, `${input.type} ${input.amount}`],
  );
  return balance;
}

/** The payment method, written in its three places (seed #8). */
export async function changePaymentMethod(sql: Sql, input: { tenant: number; type: string }): Promise<void> {
  const tenant = await one(sql, `select * from igny8_tenants where id = ?`, [input.tenant]);
  await saveTenant(sql, { ...tenant, payment_method: input.type });
  await sql(`update igny8_subscriptions set payment_method = ?, updated_at = now() where tenant_id = ?`, [input.type, input.tenant]);
  await sql(`update igny8_account_payment_methods set is_default = false where tenant_id = ? and is_default`, [input.tenant]);
  const existing = await sql(`select id from igny8_account_payment_methods where tenant_id = ? and type = ?`, [input.tenant, input.type]);
  if (existing.length > 0) {
    await sql(`update igny8_account_payment_methods set is_default = true, is_enabled = true where id = ?`, [existing[0].id]);
  } else {
    await sql(
      `insert into igny8_account_payment_methods (tenant_id, type, display_name, is_default, is_enabled, is_verified, instructions, metadata, created_at)
       values (?, ?, ?, true, true, false, '', '{}', now())`,
      [input.tenant, input.type, input.type],
    );
  }
}

/** The WordPress settings form: the wp_* columns, in plaintext (seed #12). */
export async function saveWordPress(
  sql: Sql,
  input: { site: number; url: string; username: string; appPassword: string; apiKey: string },
): Promise<void> {
  await sql(`update igny8_sites set wp_url = ?, wp_username = ?, wp_app_password = ?, wp_api_key = ?, updated_at = now() where id = ?`, [
    input.url,
    input.username,
    input.appPassword,
    input.apiKey,
    input.site,
  ]);
}

/** The reads of each flow: login, the dashboard, sites, sectors, credits, billing, WordPress. */
export async function readEverything(sql: Sql, input: { email: string; tenant: number; site: number }): Promise<Record<string, Row[]>> {
  return {
    login: await sql(
      `select u.id, u.email, u.password, u.role, u.tenant_id, u.is_active from igny8_users u where upper(u.email::text) = upper(?)`,
      [input.email],
    ),
    dashboard: await sql(
      `select t.id, t.name, t.slug, t.credits, t.status, t.owner_id, t.payment_method, p.slug as plan, p.max_sites, p.max_users,
              p.max_industries, p.included_credits, p.credits_per_month
         from igny8_tenants t join igny8_plans p on p.id = t.plan_id where t.id = ?`,
      [input.tenant],
    ),
    sites: await sql(`select id, name, slug, industry_id, is_active from igny8_sites where tenant_id = ? order by id`, [input.tenant]),
    sectors: await sql(
      `select s.id, s.name, s.slug, i.industry_id from igny8_sectors s left join igny8_industry_sectors i on i.id = s.industry_sector_id
        where s.site_id = ? order by s.id`,
      [input.site],
    ),
    ledger: await sql(
      `select id, transaction_type, amount, balance_after from igny8_credit_transactions where tenant_id = ? order by created_at desc, id desc`,
      [input.tenant],
    ),
    billing: await sql(
      `select s.id, s.status, s.payment_method, s.current_period_end,
              (select count(*) from igny8_invoices i where i.subscription_id = s.id) as invoices
         from igny8_subscriptions s where s.tenant_id = ?`,
      [input.tenant],
    ),
    paymentMethods: await sql(`select id, type, is_default from igny8_account_payment_methods where tenant_id = ? order by id`, [input.tenant]),
    wordpress: await sql(`select wp_url, wp_username, wp_app_password, wp_api_key from igny8_sites where id = ?`, [input.site]),
    access: await sql(`select user_id, site_id from igny8_site_user_access where site_id = ?`, [input.site]),
  };
}

/** Django admin: a user given access to a site (the only way an access row is ever made). */
export async function grantSiteAccess(sql: Sql, input: { user: number; site: number; grantedBy: number }): Promise<void> {
  await sql(`insert into igny8_site_user_access (user_id, site_id, granted_by_id, granted_at) values (?, ?, ?, now())`, [
    input.user,
    input.site,
    input.grantedBy,
  ]);
}

export interface JourneyResult {
  free: Signup;
  paid: Signup;
  sites: { withIndustry: number; withoutIndustry: number };
  sector: number;
  reads: Record<string, Row[]>;
}

/**
 * Every flow once, in the order a new customer meets them; `tag` keeps emails and slugs unique
 * between runs. The WordPress secrets are given (a test registers them as secrets).
 */
export async function legacyJourney(
  sql: Sql,
  tag: string,
  secrets: { appPassword: string; apiKey: string },
): Promise<JourneyResult> {
  const free = await signup(sql, { email: `Free.${tag}@Legacy.example`, slug: `free-${tag}` });
  const paid = await signup(sql, { email: `paid.${tag}@legacy.example`, slug: `paid-${tag}`, plan: 'mix', paymentMethod: 'bank_transfer' });
  const withIndustry = await createSite(sql, { tenant: paid.tenant, slug: `blog-${tag}`, industry: 'tech' });
  const withoutIndustry = await createSite(sql, { tenant: free.tenant, slug: `shop-${tag}` });
  const sector = await createSector(sql, { tenant: paid.tenant, site: withIndustry, industrySector: 'saas' });
  await changeCredits(sql, { tenant: paid.tenant, amount: 500, type: 'purchase' });
  await changeCredits(sql, { tenant: paid.tenant, amount: -120, type: 'deduction' });
  await changePaymentMethod(sql, { tenant: paid.tenant, type: 'paypal' });
  await saveWordPress(sql, { site: withIndustry, url: `https://${tag}.example`, username: `wp-${tag}`, ...secrets });
  await grantSiteAccess(sql, { user: paid.user, site: withIndustry, grantedBy: paid.user });
  const reads = await readEverything(sql, { email: `paid.${tag}@legacy.example`, tenant: paid.tenant, site: withIndustry });
  return { free, paid, sites: { withIndustry, withoutIndustry }, sector, reads };
}
