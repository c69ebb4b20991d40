// `igny8 seed legacy`: a database in the legacy shape with realistic data and every defect
// kind the checks find, planted at counts known in advance, so an audit can be held to
// them. Set-based: a plan table decides each account's plan and defect once, then one
// INSERT … SELECT per table writes every row (10^6 accounts in well under a minute).
//
// Each defective account carries exactly ONE defect kind, built so that it trips only its
// own check; the expected counts are therefore the generator's own decisions, counted from
// the plan table, not re-derived by the checks' SQL.
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { migrateLatest } from '../db/migrator.js';
import { BASELINE_MIGRATION } from '../db/adopt.js';
import { syncCatalog } from '../domain/catalog.js';
import { DomainRefusal, ValidationError } from '../errors.js';
import { LEGACY_FOREIGN_KEY_INDEXES, LEGACY_TABLES } from '../schema/legacy.js';
import { RULE_IDS, RULES } from '../rules/registry.js';
import { plural } from '../render/text.js';
import { parseShape, roomSql, shapeFractions, validateShape, LEDGER_CAP, LEDGER_TAIL, type DataShape, type Layout } from './shape.js';

type PlanSlug = 'free' | 'starter' | 'growth' | 'scale';
const PAID: PlanSlug[] = ['starter', 'growth', 'scale'];
const ALL: PlanSlug[] = ['free', ...PAID];

/** Defect kinds planted per account, and the plans whose accounts can carry each cleanly. */
export const PLANTED_KINDS: ReadonlyArray<{ id: string; plans: PlanSlug[]; rowsPerDefect: number }> = [
  { id: 'orphan-users', plans: ALL, rowsPerDefect: 1 },
  { id: 'account-without-owner', plans: ALL, rowsPerDefect: 1 },
  // Needs a second member to promote (growth and scale have two or more users).
  { id: 'multiple-owners', plans: ['growth', 'scale'], rowsPerDefect: 1 },
  // owner_id names the first member, an admin; the second member holds the owner role.
  { id: 'owner-role-mismatch', plans: ['growth', 'scale'], rowsPerDefect: 1 },
  { id: 'duplicate-emails', plans: ['growth', 'scale'], rowsPerDefect: 1 },
  { id: 'site-industry-null', plans: ALL, rowsPerDefect: 1 },
  { id: 'sector-industry-mismatch', plans: ALL, rowsPerDefect: 1 },
  // Scale is unlimited (0); the others get limit + 1 sectors on their first site.
  { id: 'sector-limit-exceeded', plans: ['free', 'starter', 'growth'], rowsPerDefect: 1 },
  // Free and starter allow one site: a second one breaks the limit.
  { id: 'site-limit-exceeded', plans: ['free', 'starter'], rowsPerDefect: 1 },
  { id: 'credit-balance-drift', plans: ALL, rowsPerDefect: 1 },
  // A wrong balance_after breaks its own row and the next one: two rows per defect.
  { id: 'ledger-chain-broken', plans: ALL, rowsPerDefect: 2 },
  { id: 'signup-credit-shortfall', plans: ['free'], rowsPerDefect: 1 },
  { id: 'payment-method-drift', plans: PAID, rowsPerDefect: 1 },
  { id: 'pending-payment-incomplete', plans: PAID, rowsPerDefect: 1 },
  { id: 'invoice-billing-snapshot-missing', plans: PAID, rowsPerDefect: 1 },
  { id: 'site-access-missing', plans: ALL, rowsPerDefect: 1 },
  { id: 'plaintext-credentials', plans: ALL, rowsPerDefect: 1 },
  { id: 'cross-tenant-reference', plans: ALL, rowsPerDefect: 1 },
];

/** seed #5: the legacy free plan grants 100 credits; the catalog says 1,000. */
const PLAN_DEFECT = 'plan-catalog-drift';
const LEGACY_FREE_CREDITS = 100;

/** Checks that cannot run on the legacy shape (their column does not exist yet). */
/**
 * Checks that do not run on a seeded legacy database: no subscription has a plan column yet,
 * and no credential is encrypted (the audit judges them only with a key given).
 */
export const LEGACY_NOT_APPLICABLE = [
  'subscription-plan-missing',
  'subscription-plan-drift',
  'credentials-undecryptable',
  // the account lifecycle's: no ledger keys, billing runs or status history on the legacy shape
  'paid-invoice-credits-missing',
  'subscription-period-stale',
  'inactive-account-activity',
];

export const PLANTABLE: readonly string[] = [PLAN_DEFECT, ...PLANTED_KINDS.map((kind) => kind.id)];

export interface SeedOptions {
  accounts: number;
  /** Share of accounts carrying one defect, 0..1. */
  defectRate: number;
  seed: number;
  /** Defect kinds to plant (check ids); default every plantable kind. */
  defects?: readonly string[];
  /** Rows in account order (default), or in arrival order: interleaved across accounts, id order = time order. */
  layout?: Layout;
  /** Rows per account of each table; default the lean shape. */
  shape?: DataShape;
  /** The shape's name, for the report. */
  shapeName?: string;
  onProgress?: (step: string, index: number, total: number) => void;
}

export interface SeedResult {
  accounts: number;
  defectRate: number;
  seed: number;
  defects: string[];
  layout: Layout;
  shape: { name: string } & DataShape;
  /** Exactly what `igny8 audit --format json` reports as each check's count. */
  planted: Record<string, number>;
  /** Checks that do not apply to the legacy shape. */
  notApplicable: string[];
  rows: Record<string, number>;
  durationMs: number;
}

/** `repairable` stands for every plantable kind with a repair. */
export function resolveDefects(requested: readonly string[] | undefined): string[] {
  if (requested === undefined) return [...PLANTABLE];
  const ids = requested.flatMap((id) =>
    id === 'repairable' ? RULES.filter((rule) => rule.repair !== undefined && PLANTABLE.includes(rule.id)).map((rule) => rule.id) : [id],
  );
  for (const id of ids) {
    if (!RULE_IDS.includes(id)) throw new ValidationError('--defects', `unknown check ${JSON.stringify(id)}`);
    if (!PLANTABLE.includes(id)) {
      throw new ValidationError('--defects', `${id} cannot be planted in the legacy shape (it does not apply there)`);
    }
  }
  return PLANTABLE.filter((id) => ids.includes(id));
}

async function assertEmpty(knex: Knex): Promise<void> {
  const result = await knex.raw(
    `select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`,
  );
  const tables = (result.rows as Array<{ name: string }>).map((row) => row.name);
  if (tables.length === 0) return;
  // A baseline applied by an earlier, failed seed (and nothing else) counts as empty.
  const known = new Set([...LEGACY_TABLES, 'igny8_migrations']);
  const foreign = tables.filter((table) => !known.has(table));
  if (foreign.length === 0 && tables.includes('igny8_migrations')) {
    const applied = await knex.raw(`select name from igny8_migrations`);
    const names = (applied.rows as Array<{ name: string }>).map((row) => row.name);
    const rows = await knex.raw(
      `select (select count(*) from igny8_plans) + (select count(*) from igny8_tenants) + (select count(*) from igny8_users) as n`,
    ).catch(() => ({ rows: [{ n: 1 }] }));
    if (names.every((name) => name === BASELINE_MIGRATION) && Number(rows.rows[0].n) === 0) return;
  }
  throw new DomainRefusal(
    `seed legacy needs an empty database; this one has ${plural(tables.length, 'table')} (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''})`,
    { details: ['point --database-url (or IGNY8_DATA_DIR) at a new, empty database'] },
  );
}

const hash = (salt: string, seed: number) =>
  `(cast(hashtext('${salt}:' || g.i || ':' || ${seed}) as bigint) + 2147483648)`;

/** Industries numbered 0..n-1 with their first sector, for picking one per account. */
export const INDUSTRIES_SQL = `create temp table seed_industries on commit drop as
         select i.id, cast(row_number() over (order by i.id) - 1 as int) as n,
                (select min(s.id) from igny8_industry_sectors s where s.industry_id = i.id) as sector_id
           from igny8_industries i`;

/** The per-account decisions: plan, defect kind, its variant, a partner account. */
export function planTableSql(options: SeedOptions, defects: readonly string[]): string {
  const threshold = Math.round(options.defectRate * 1_000_000);
  const kindsFor = (plan: PlanSlug) =>
    PLANTED_KINDS.filter((kind) => kind.plans.includes(plan) && defects.includes(kind.id)).map((kind) => kind.id);
  const choose = ALL.map((plan) => {
    const kinds = kindsFor(plan);
    if (kinds.length === 0) return `when '${plan}' then null`;
    return `when '${plan}' then (array[${kinds.map((kind) => `'${kind}'`).join(', ')}])[1 + cast(g.h2 % ${kinds.length} as int)]`;
  }).join(' ');
  const n = options.accounts;
  const fractions = shapeFractions(options.shape ?? parseShape(undefined).shape, options.defectRate);
  // Evenly spread quantiles, one sequence per table (i times an irrational, mod 1), shifted by
  // the seed: the means come out as asked at any size, without a random draw per account.
  const offset = (options.seed * 0.5772156649015329) % 1;
  const spread = (multiplier: number) => `((g.i * ${multiplier} + ${offset}) - floor(g.i * ${multiplier} + ${offset}))`;
  // Only clean accounts grow beyond the base, so every defect keeps the rows it was built on.
  const extra = (room: string, fraction: number, multiplier: number) =>
    fraction === 0 ? '0' : `case when g.kind is null then cast(floor(${room} * ${fraction} + ${spread(multiplier)}) as int) else 0 end`;
  const ledgerExtra =
    fractions.ledgerScale === 0
      ? '0'
      : `cast(least(${LEDGER_CAP - 2}, floor(${fractions.ledgerScale} * (power(greatest(${spread(0.2360679774997897)}, 1e-12), ${-1 / LEDGER_TAIL}) - 1))) as int)`;
  // Each decision is computed once (materialized): referenced columns of a flattened subquery
  // are evaluated again at every reference, and the hashes are most of the plan's cost.
  return `create temp table seed_plan on commit drop as
    with decided as materialized (
           select g.i, g.plan, g.h2, g.h3,
                  case when g.defective then case g.plan ${choose} end end as kind
             from (select g.i,
                          case when g.i % 10 < 4 then 'free' when g.i % 10 < 7 then 'starter'
                               when g.i % 10 < 9 then 'growth' else 'scale' end as plan,
                          ${hash('d', options.seed)} % 1000000 < ${threshold} as defective,
                          ${hash('k', options.seed)} as h2,
                          ${hash('v', options.seed)} as h3
                     from generate_series(cast(1 as bigint), ${n}) g(i)) g),
         shaped as materialized (
           select g.*,
                  ${extra(roomSql('users', 'g.plan'), fractions.users, 0.6180339887498949)} as extra_users,
                  ${extra(roomSql('sites', 'g.plan'), fractions.sites, 0.4142135623730950)} as extra_sites,
                  ${extra(roomSql('sectorsPerSite', 'g.plan'), fractions.sectors, 0.7320508075688772)} as sector_extra,
                  ${ledgerExtra} as ledger_extra
             from decided g)
    select g.i, g.plan, p.id as plan_id, p.price, p.name as plan_name, g.kind,
           g.extra_users, g.extra_sites, g.sector_extra, 2 + g.ledger_extra as ledger_rows,
           -- the ledger rows of the accounts before this one: the ordered layout's ids
           sum(2 + g.ledger_extra) over (order by g.i) - (2 + g.ledger_extra) as ledger_offset,
           -- when the account signed up, 0..1 over the database's history (accounts come in id order)
           cast(g.i - 1 as float8) / ${n} as t,
           ind.id as industry_id, ind.sector_id, other.sector_id as other_sector_id,
           -- cross-tenant-reference: 0 invoice (paid only), 1 access row, 2 integration
           case when g.kind = 'cross-tenant-reference' then
                  case when g.plan = 'free' then 1 + cast(g.h3 % 2 as int) else cast(g.h3 % 3 as int) end
                else cast(g.h3 % 2 as int) end as variant,
           -- same plan (i ± 10 keeps i % 10), so a paid partner has a subscription too
           case when g.i + 10 <= ${n} then g.i + 10 else g.i - 10 end as partner,
           case g.plan when 'free' then 1 when 'starter' then 1 when 'growth' then 2 else 3 end as users,
           case g.plan when 'free' then 1 when 'starter' then 1 else 2 end as sites,
           case g.plan when 'free' then 'stripe'
                else (array['stripe', 'paypal', 'bank_transfer'])[1 + cast(g.i % 3 as int)] end as method,
           case when g.plan = 'free' then 'active'
                when g.kind = 'pending-payment-incomplete' or g.i % 7 = 0 then 'pending_payment'
                else 'active' end as status,
           case g.plan when 'free' then case when g.kind = 'signup-credit-shortfall' then ${LEGACY_FREE_CREDITS} else 1000 end
                when 'starter' then 1000 when 'growth' then 2000 else 4000 end as grant_amount,
           cast(g.i % 50 + 1 as int) as spent
      from shaped g
      join igny8_plans p on p.slug = g.plan
      join seed_industries ind on ind.n = g.i * 7 % (select count(*) from seed_industries)
      join seed_industries other on other.n = (g.i * 7 + 1) % (select count(*) from seed_industries)
     -- Rows leave here in account order and every later INSERT reads them in that order:
     -- each index then grows at its right edge instead of at random pages (at 10^6
     -- accounts, random index inserts overflow the buffer cache and flood the WAL).
     order by g.i`;
}

/**
 * The last extra ledger row's dip: extra rows come in pairs, a deduction of a few credits and
 * a purchase of the same, so an account ends on its second row's balance, less the last
 * deduction when its count of extra rows is odd.
 */
const EXTRA_AMOUNT = (e: string) => `(1 + (${e} + p.i) % 7)`;
const LAST_DIP = `case when (p.ledger_rows - 2) % 2 = 1 then ${EXTRA_AMOUNT('p.ledger_rows - 2')} else 0 end`;

/**
 * The ledger: a grant, a deduction, then the shape's extra rows, each chained on the one
 * before (balance_after = previous + amount, never below zero). Ordered: each account's rows
 * together, in account order. Arrival: every row at its moment between the account's signup
 * and now, the grant first, ids (and the heap) in time order across all accounts.
 */
function ledgerSql(layout: Layout): string {
  const grant = `p.grant_amount`;
  const balance = `p.grant_amount - p.spent`;
  const rows = `select p.i, r.j,
              case when r.j = 0 then 'subscription' when r.j = 1 or (r.j - 1) % 2 = 1 then 'deduction' else 'purchase' end as type,
              case when r.j = 0 then ${grant} when r.j = 1 then -p.spent
                   when (r.j - 1) % 2 = 1 then -${EXTRA_AMOUNT('(r.j - 1)')} else ${EXTRA_AMOUNT('(r.j - 2)')} end as amount,
              case when r.j = 0 then ${grant} + case when p.kind = 'ledger-chain-broken' then 7 else 0 end
                   when (r.j - 1) % 2 = 1 then ${balance} - ${EXTRA_AMOUNT('(r.j - 1)')} else ${balance} end as balance_after,
              case when r.j = 0 then case when p.plan = 'free' then 'signup credits' else 'plan credits' end
                   when r.j = 1 or (r.j - 1) % 2 = 1 then 'content generation' else 'credit purchase' end as description,
              case when r.j = 0 then jsonb_build_object('reason', case when p.plan = 'free' then 'signup' else 'subscription' end, 'plan', p.plan)
                   else '{}' end as metadata,
              ${layout === 'ordered'
                ? `p.ledger_offset + r.j + 1 as id,
              timestamptz '2024-01-01 00:00:00+00' + (p.i % 700) * interval '1 day' + r.j * interval '1 hour' as created_at`
                : // the grant at signup, row j within the j-th of ledger_rows equal slices of the account's life
                  `p.t + (1 - p.t) * case when r.j = 0 then 0
                   else (r.j + ((p.i * 0.7548776662466927 + r.j * 0.5698402909980532) - floor(p.i * 0.7548776662466927 + r.j * 0.5698402909980532))) / p.ledger_rows end as t`}
         from seed_plan p cross join lateral generate_series(0, p.ledger_rows - 1) r(j)`;
  const columns = `insert into igny8_credit_transactions (id, tenant_id, transaction_type, amount, balance_after, description, metadata, created_at)`;
  if (layout === 'ordered') {
    return `${columns} select x.id, x.i, x.type, x.amount, x.balance_after, x.description, x.metadata, x.created_at from (${rows}) x`;
  }
  return `${columns}
       select row_number() over (order by x.t, x.i, x.j), x.i, x.type, x.amount, x.balance_after, x.description, x.metadata,
              ${timeAt('x.t')}
         from (${rows}) x
        order by x.t, x.i, x.j`;
}

/** A moment of the database's history (0..1) as a timestamp: 700 days from 2024-01-01. */
function timeAt(t: string): string {
  return `timestamptz '2024-01-01 00:00:00+00' + ${t} * interval '700 days'`;
}

/** Every statement after the plan table, in foreign-key order, with a progress label. */
export function dataStatements(n: number, layout: Layout = 'ordered'): Array<[string, string]> {
  const created = `timestamptz '2024-01-01 00:00:00+00' + (p.i % 700) * interval '1 day'`;
  const password = (id: string) =>
    `'pbkdf2_sha256$600000$' || left(md5(${id} || ':salt'), 22) || '$' || md5(${id} || ':hash')`;
  return [
    [
      'accounts',
      // owner_id points at users inserted next: the legacy foreign key is deferred (seed #3).
      `insert into igny8_tenants (id, name, slug, owner_id, plan_id, credits, status, payment_method,
              billing_email, billing_address_line1, billing_city, billing_country, created_at, updated_at)
       select p.i, 'Account ' || p.i, 'account-' || lpad(cast(p.i as text), 8, '0'),
              case when p.kind = 'account-without-owner' and p.variant = 1 then p.partner else p.i end,
              p.plan_id,
              p.grant_amount - p.spent - ${LAST_DIP} + case when p.kind = 'credit-balance-drift' then 50 else 0 end,
              p.status, p.method, 'billing' || p.i || '@example.com',
              p.i || ' Market Street', (array['Lisbon', 'Austin', 'Berlin', 'Pune'])[1 + cast(p.i % 4 as int)],
              (array['PT', 'US', 'DE', 'IN'])[1 + cast(p.i % 4 as int)], ${created}, ${created}
         from seed_plan p`,
    ],
    [
      'users',
      `insert into igny8_users (id, email, password, first_name, last_name, role, tenant_id, is_active, date_joined)
       select u.id,
              case when p.kind = 'duplicate-emails' and k.k = 1 then 'User' || lpad(cast(p.i as text), 9, '0') || '@Example.com'
                   else 'user' || lpad(cast(u.id as text), 9, '0') || '@example.com' end,
              ${password('u.id')},
              (array['Ana', 'Ben', 'Chen', 'Dara', 'Eli', 'Fatima'])[1 + cast(u.id % 6 as int)],
              (array['Silva', 'Okafor', 'Novak', 'Ito', 'Meyer'])[1 + cast(u.id % 5 as int)],
              case when k.k = 0 then case when p.kind = 'account-without-owner' and p.variant = 0 or p.kind = 'owner-role-mismatch'
                                          then 'admin' else 'owner' end
                   when k.k = 1 then case when p.kind in ('multiple-owners', 'owner-role-mismatch') then 'owner' else 'admin' end
                   else 'editor' end,
              p.i, true, ${created}
         from seed_plan p
         cross join lateral generate_series(0, p.users + p.extra_users - 1) k(k)
         -- 3n + i is the orphan users': the fourth member and on come after it
         cross join lateral (select case when k.k < 3 then ${n} * k.k else ${n} * (k.k + 1) end + p.i as id) u`,
    ],
    [
      'orphan users',
      // seed #3: a user created before an account that was never made.
      `insert into igny8_users (id, email, password, role, tenant_id, date_joined)
       select 3 * ${n} + p.i, 'user' || lpad(cast(3 * ${n} + p.i as text), 9, '0') || '@example.com', ${password(`(3 * ${n} + p.i)`)}, 'owner', null, ${created}
         from seed_plan p where p.kind = 'orphan-users'`,
    ],
    [
      'subscriptions',
      `insert into igny8_subscriptions (id, tenant_id, stripe_subscription_id, payment_method, status,
              current_period_start, current_period_end, created_at, updated_at)
       select p.i, p.i, case when p.method = 'stripe' then 'sub_' || md5(p.i || ':sub') end,
              case when p.kind = 'payment-method-drift' and p.variant = 0
                   then case p.method when 'stripe' then 'paypal' else 'stripe' end else p.method end,
              case when p.status = 'pending_payment' then 'pending_payment' else 'active' end,
              ${created}, ${created} + interval '1 month', ${created}, ${created}
         from seed_plan p where p.plan <> 'free'`,
    ],
    [
      'payment methods',
      `insert into igny8_account_payment_methods (id, tenant_id, type, display_name, is_default, is_verified, created_at)
       select m.id, p.i, p.method, initcap(replace(p.method, '_', ' ')), true, p.status = 'active', ${created}
         from seed_plan p
         cross join lateral (select p.i as id
                             union all
                             select ${n} + p.i where p.kind = 'payment-method-drift' and p.variant = 1) m
        where p.plan <> 'free'`,
    ],
    [
      'invoices',
      `insert into igny8_invoices (id, tenant_id, subscription_id, invoice_number, status, subtotal, tax, total,
              invoice_date, due_date, paid_at, billing_email, line_items, created_at)
       select p.i, p.i,
              case when p.kind = 'cross-tenant-reference' and p.variant = 0 then p.partner else p.i end,
              'INV-' || lpad(cast(p.i as text), 8, '0'),
              case when p.status = 'pending_payment' then 'pending' else 'paid' end,
              p.price, 0, p.price, cast(${created} as date), cast(${created} as date) + 14,
              case when p.status = 'pending_payment' then null else ${created} + interval '1 day' end,
              case when p.kind = 'invoice-billing-snapshot-missing' then null else 'billing' || p.i || '@example.com' end,
              jsonb_build_array(jsonb_build_object('description', p.plan_name || ' plan', 'amount', p.price)), ${created}
         from seed_plan p
        where p.plan <> 'free' and p.kind is distinct from 'pending-payment-incomplete'`,
    ],
    ['ledger', ledgerSql(layout)],
    [
      'sites',
      `insert into igny8_sites (id, tenant_id, name, slug, domain, industry_id, wp_url, wp_username, wp_app_password,
              wp_api_key, created_at, updated_at)
       select s.id, p.i, 'Site ' || s.id, 'site-' || s.id, 'site' || s.id || '.example.com',
              case when p.kind = 'site-industry-null' and s.id = p.i then null else p.industry_id end,
              case when p.i % 3 = 0 and s.id = p.i then 'https://site' || s.id || '.example.com' end,
              case when p.i % 3 = 0 and s.id = p.i then 'editor' || p.i end,
              -- seed #12: the plaintext WordPress credentials
              case when p.kind = 'plaintext-credentials' and s.id = p.i then 'wpap-' || md5(p.i || ':wp') end,
              case when p.kind = 'plaintext-credentials' and s.id = p.i then 'wpk-' || md5(p.i || ':key') end,
              ${created}, ${created}
         from seed_plan p
         cross join lateral (select p.i as id
                             union all select ${n} + p.i where p.sites > 1
                             union all select 2 * ${n} + p.i where p.kind = 'site-limit-exceeded'
                             union all select (3 + e.e) * ${n} + p.i from generate_series(0, p.extra_sites - 1) e(e)) s`,
    ],
    [
      'sectors',
      `insert into igny8_sectors (id, tenant_id, site_id, industry_sector_id, name, slug, created_at)
       select x.id, p.i, x.site_id,
              case when p.kind = 'sector-industry-mismatch' and x.site_id = p.i then p.other_sector_id else p.sector_id end,
              'Sector ' || x.id, x.slug, ${created}
         from seed_plan p
         cross join lateral (
           select p.i as id, p.i as site_id, 'main' as slug
           union all select ${n} + p.i, ${n} + p.i, 'main' where p.sites > 1
           union all select 3 * ${n} + 6 * (p.i - 1) + e.k, p.i, 'extra-' || e.k
             from generate_series(1, case p.plan when 'free' then 1 when 'starter' then 3 else 5 end) e(k)
            where p.kind = 'sector-limit-exceeded'
           -- the shape's sectors: more on each site, and a first one on each extra site
           union all select (10 + 10 * site.x + e.e) * ${n} + p.i, site.id, case when e.e = 0 then 'main' else 'topic-' || e.e end
             from (select 0 as x, p.i as id
                   union all select 1, ${n} + p.i where p.sites > 1
                   union all select 2 + e.e, (3 + e.e) * ${n} + p.i from generate_series(0, p.extra_sites - 1) e(e)) site
            cross join lateral generate_series(case when site.x < 2 then 1 else 0 end, p.sector_extra) e(e)) x`,
    ],
    [
      'site access',
      `insert into igny8_site_user_access (id, user_id, site_id, granted_by_id, granted_at)
       select x.id, x.user_id, x.site_id, p.i, ${created}
         from seed_plan p
         cross join lateral (
           select p.i as id, p.i as user_id, p.i as site_id where p.kind is distinct from 'site-access-missing'
           union all select ${n} + p.i, p.i, ${n} + p.i where p.sites > 1
           union all select 2 * ${n} + p.i, p.i, 2 * ${n} + p.i where p.kind = 'site-limit-exceeded'
           union all select 3 * ${n} + p.i, p.i, p.partner where p.kind = 'cross-tenant-reference' and p.variant = 1
           -- the second owner-role member's access (site-access-missing counts owners by role)
           union all select 4 * ${n} + p.i, ${n} + p.i, p.i where p.kind in ('multiple-owners', 'owner-role-mismatch')
           union all select 5 * ${n} + p.i, ${n} + p.i, ${n} + p.i
                      where p.kind in ('multiple-owners', 'owner-role-mismatch') and p.sites > 1
           -- the shape's rows: the owner on each extra site, each extra member on the first site
           union all select (6 + e.e) * ${n} + p.i, p.i, (3 + e.e) * ${n} + p.i from generate_series(0, p.extra_sites - 1) e(e)
           union all select (10 + k.k) * ${n} + p.i, case when k.k < 3 then ${n} * k.k else ${n} * (k.k + 1) end + p.i, p.i
             from generate_series(p.users, p.users + p.extra_users - 1) k(k)) x`,
    ],
    [
      'integrations',
      `insert into igny8_site_integrations (id, tenant_id, site_id, platform, config_json, credentials_json,
              sync_enabled, sync_status, created_at)
       select p.i, p.i, p.i, 'wordpress', jsonb_build_object('url', 'https://site' || p.i || '.example.com'),
              jsonb_build_object('username', 'editor' || p.i), true, 'synced', ${created}
         from seed_plan p where p.i % 3 = 0
       union all
       select ${n} + p.i, p.i, p.partner, case when p.i + 10 <= ${n} then 'custom' else 'shopify' end,
              '{}', '{}', false, 'pending', ${created}
         from seed_plan p where p.kind = 'cross-tenant-reference' and p.variant = 2`,
    ],
  ];
}

const SEQUENCED_TABLES = LEGACY_TABLES;

/**
 * The arrival layout's tables other than the ledger: each row gets a moment between its
 * account's signup and now, and ids in the order of those moments, so the heap (written in id
 * order) holds every account's rows scattered across it. References follow the new ids.
 */
const ARRIVING: ReadonlyArray<{ table: string; account?: string; times: string[]; refs: Record<string, string>; multiplier: number }> = [
  { table: 'igny8_users', account: 'tenant_id', times: ['date_joined'], refs: {}, multiplier: 0.6180339887498949 },
  { table: 'igny8_subscriptions', account: 'tenant_id', times: ['created_at', 'updated_at'], refs: {}, multiplier: 0.4142135623730950 },
  { table: 'igny8_account_payment_methods', account: 'tenant_id', times: ['created_at'], refs: {}, multiplier: 0.7320508075688772 },
  {
    table: 'igny8_invoices',
    account: 'tenant_id',
    times: ['created_at'],
    refs: { subscription_id: 'igny8_subscriptions' },
    multiplier: 0.2360679774997897,
  },
  { table: 'igny8_sites', account: 'tenant_id', times: ['created_at', 'updated_at'], refs: {}, multiplier: 0.3247179572447460 },
  { table: 'igny8_sectors', account: 'tenant_id', times: ['created_at'], refs: { site_id: 'igny8_sites' }, multiplier: 0.5698402909980532 },
  {
    table: 'igny8_site_user_access',
    times: ['granted_at'],
    refs: { user_id: 'igny8_users', site_id: 'igny8_sites', granted_by_id: 'igny8_users' },
    multiplier: 0.7548776662466927,
  },
  { table: 'igny8_site_integrations', account: 'tenant_id', times: ['created_at'], refs: { site_id: 'igny8_sites' }, multiplier: 0.4655712318767680 },
];
const stage = (table: string) => `seed_stage_${table}`;
const idMap = (table: string) => `seed_ids_${table}`;

async function columnsOf(trx: Knex.Transaction, table: string): Promise<string[]> {
  const result = await trx.raw(
    `select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = ? order by ordinal_position`,
    [table],
  );
  return (result.rows as Array<{ name: string }>).map((row) => row.name);
}

/**
 * The arrival layout: the same rows as the ordered one (the same statements write them into
 * staging tables), then each table is written in time order with new ids. Accounts keep
 * theirs: they arrive in id order.
 */
async function writeArriving(
  trx: Knex.Transaction,
  n: number,
  steps: Array<[string, string]>,
  progress: (label: string) => void,
): Promise<void> {
  const staged = ['igny8_tenants', ...ARRIVING.map((entry) => entry.table)];
  for (const table of staged) await trx.raw(`create temp table ${stage(table)} (like ${table} including defaults) on commit drop`);
  for (const [label, sql] of steps) {
    if (label === 'ledger') continue;
    progress(`${label} (staged)`);
    await trx.raw(sql.replace(/^\s*insert into (igny8_\w+)/, (_match, table: string) => `insert into ${stage(table)}`));
  }
  progress('arrival order');
  for (const entry of ARRIVING) {
    const account = entry.account ? `coalesce(cast(s.${entry.account} - 1 as float8) / ${n}, 0)` : '0';
    const u = `(s.id * ${entry.multiplier} - floor(s.id * ${entry.multiplier}))`;
    await trx.raw(
      `create temp table ${idMap(entry.table)} on commit drop as
         select x.lid, row_number() over (order by x.t, x.lid) as id, x.t
           from (select s.id as lid, ${account} + (1 - ${account}) * ${u} as t from ${stage(entry.table)} s) x`,
    );
    await trx.raw(`analyze ${idMap(entry.table)}`);
  }
  const write = async (table: string, select: (column: string) => string, from: string, order: string) => {
    const columns = await columnsOf(trx, table);
    await trx.raw(`insert into ${table} (${columns.join(', ')}) select ${columns.map(select).join(', ')} from ${from} order by ${order}`);
  };
  progress('accounts');
  await write('igny8_tenants', (c) => (c === 'owner_id' ? 'o.id' : `s.${c}`), `${stage('igny8_tenants')} s left join ${idMap('igny8_users')} o on o.lid = s.owner_id`, 's.id');
  const ledger = steps.find(([label]) => label === 'ledger');
  for (const entry of ARRIVING) {
    if (entry.table === 'igny8_sites' && ledger) {
      progress('ledger');
      await trx.raw(ledger[1]);
    }
    progress(entry.table.replace(/^igny8_/, '').replace(/_/g, ' '));
    const refs = Object.entries(entry.refs);
    await write(
      entry.table,
      (c) => (c === 'id' ? 'm.id' : entry.refs[c] ? `r_${c}.id` : entry.times.includes(c) ? timeAt('m.t') : `s.${c}`),
      `${stage(entry.table)} s join ${idMap(entry.table)} m on m.lid = s.id
       ${refs.map(([column, target]) => `left join ${idMap(target)} r_${column} on r_${column}.lid = s.${column}`).join('\n       ')}`,
      'm.id',
    );
  }
}

export async function seedLegacy(db: Database, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const defects = resolveDefects(options.defects);
  await assertEmpty(db.knex);
  const progress = options.onProgress ?? (() => undefined);
  const layout = options.layout ?? 'ordered';
  const shape = options.shape ?? parseShape(undefined).shape;
  validateShape(shape);
  const steps = dataStatements(options.accounts, layout);
  const total = steps.length + 5 + (layout === 'arrival' ? 2 : 0);
  progress('legacy baseline', 0, total);
  const migrated = await migrateLatest(db, { to: BASELINE_MIGRATION });
  if (migrated.error) throw migrated.error;

  const { planted, rows } = await db.knex.transaction(async (trx) => {
    // Foreign-key triggers cost more than the inserts themselves; every row is generated
    // consistent by construction, so where we may (a superuser), they are skipped for this
    // transaction only. Indexes and unique constraints stay in force.
    const superuser = await trx.raw(`select current_setting('is_superuser') = 'on' as yes`);
    if (superuser.rows[0].yes) await trx.raw(`select set_config('session_replication_role', 'replica', true)`);
    // generate_series misleads the planner's row estimates into JIT-compiling simple scans
    // (hundreds of ms per statement), and the plan table's sorts should stay in memory.
    await trx.raw(
      `select set_config('jit', 'off', true), set_config('work_mem', '128MB', true),
              set_config('maintenance_work_mem', '256MB', true)`,
    );
    progress('plans and industries', 1, total);
    await syncCatalog(trx);
    if (defects.includes(PLAN_DEFECT)) {
      await trx.raw(`update igny8_plans set included_credits = ? where slug = 'free'`, [LEGACY_FREE_CREDITS]);
    }
    progress('account plan', 2, total);
    await trx.raw(INDUSTRIES_SQL);
    await trx.raw(planTableSql({ ...options, shape }, defects));
    await trx.raw('analyze seed_plan');
    // The foreign-key-only indexes are built once over the loaded rows (a sort each) rather
    // than maintained row by row; primary keys and unique constraints stay in force
    // throughout. The baseline's index names are kept, so the shape is exactly the baseline's.
    for (const { table, column } of LEGACY_FOREIGN_KEY_INDEXES) await trx.raw(`drop index if exists ${table}_${column}_idx`);
    if (layout === 'ordered') {
      for (const [index, [label, sql]] of steps.entries()) {
        progress(label, 3 + index, total);
        await trx.raw(sql);
      }
    } else {
      let index = 3;
      await writeArriving(trx, options.accounts, steps, (label) => progress(label, Math.min(index++, total - 3), total));
    }
    progress('indexes', total - 2, total);
    for (const { table, column } of LEGACY_FOREIGN_KEY_INDEXES) {
      await trx.raw(`create index ${table}_${column}_idx on ${table} (${column})`);
    }
    for (const table of SEQUENCED_TABLES) {
      await trx.raw(
        `select setval(pg_get_serial_sequence('${table}', 'id'), greatest((select max(id) from ${table}), 1),
                       (select max(id) from ${table}) is not null)`,
      );
    }
    const kinds = await trx.raw(`select kind, count(*) as n from seed_plan where kind is not null group by kind`);
    const byKind = new Map((kinds.rows as Array<{ kind: string; n: number }>).map((row) => [row.kind, Number(row.n)]));
    const counts: Record<string, number> = {};
    for (const check of RULES) {
      if (LEGACY_NOT_APPLICABLE.includes(check.id)) continue;
      const kind = PLANTED_KINDS.find((candidate) => candidate.id === check.id);
      counts[check.id] =
        check.id === PLAN_DEFECT ? (defects.includes(PLAN_DEFECT) ? 1 : 0) : (byKind.get(check.id) ?? 0) * (kind?.rowsPerDefect ?? 1);
    }
    const sizes = await trx.raw(
      LEGACY_TABLES.map((table) => `select '${table}' as name, count(*) as n from ${table}`).join(' union all '),
    );
    return {
      planted: counts,
      rows: Object.fromEntries((sizes.rows as Array<{ name: string; n: number }>).map((row) => [row.name, Number(row.n)])),
    };
  });
  progress('analyze', total - 1, total);
  await db.knex.raw('analyze');
  return {
    accounts: options.accounts,
    defectRate: options.defectRate,
    seed: options.seed,
    defects,
    layout,
    shape: { name: options.shapeName ?? (options.shape ? 'custom' : 'lean'), ...shape },
    planted,
    notApplicable: [...LEGACY_NOT_APPLICABLE],
    rows,
    durationMs: Math.round(performance.now() - started),
  };
}
