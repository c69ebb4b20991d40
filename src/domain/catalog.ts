// seed #5: plan values (free = 1,000 credits), industries and their sectors come from one
// catalog fixture. `catalog sync` makes the database match it in one transaction and says
// exactly which fields it changed; a second sync changes nothing.
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { z } from 'zod';
import { inspectSchema, type SchemaInfo } from '../schema/inspect.js';
import { DomainRefusal } from '../errors.js';
import { comparePlansWithCatalog, lockPlans, showValue, syncPlansSql } from '../rules/plan-catalog.js';

const planSchema = z.object({
  slug: z.string().min(1).max(50),
  name: z.string().min(1).max(255),
  price: z.string().regex(/^\d+\.\d{2}$/),
  billing_cycle: z.enum(['monthly', 'yearly']),
  included_credits: z.number().int().min(0),
  max_sites: z.number().int().min(0),
  max_users: z.number().int().min(0),
  /** 0 means unlimited. */
  max_sectors_per_site: z.number().int().min(0),
  features: z.array(z.string()),
});

const industrySchema = z.object({
  slug: z.string().min(1).max(50),
  name: z.string().min(1).max(255),
  description: z.string(),
  is_active: z.boolean(),
  sectors: z.array(
    z.object({
      slug: z.string().min(1).max(50),
      name: z.string().min(1).max(255),
      description: z.string(),
      is_active: z.boolean(),
    }),
  ),
});

const catalogSchema = z.object({ plans: z.array(planSchema), industries: z.array(industrySchema) });

export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogPlan = z.infer<typeof planSchema>;

let cached: Catalog | undefined;

/** The catalog fixture shipped with igny8 (fixtures/catalog.json). */
export function loadCatalog(): Catalog {
  cached ??= catalogSchema.parse(
    JSON.parse(readFileSync(new URL('../../fixtures/catalog.json', import.meta.url), 'utf8')),
  );
  return cached;
}

export function catalogPlan(slug: string, catalog = loadCatalog()): CatalogPlan | undefined {
  return catalog.plans.find((plan) => plan.slug === slug);
}

export type CatalogEntity = 'plan' | 'industry' | 'industry_sector';

export interface CatalogChange {
  entity: CatalogEntity;
  key: string;
  action: 'created' | 'updated';
  fields: Record<string, { from: unknown; to: unknown }>;
  /**
   * A plan whose price or included credits change: its subscriptions in a paid-up period
   * (active, trialing, past_due). They keep their current period as invoiced and granted; the
   * new values apply from each one's next period.
   */
  activeSubscriptions?: number;
}

export interface CatalogSyncOptions {
  /** Compare only: report the changes, write nothing. */
  dryRun?: boolean;
  /** Confirms a change of price or credits on plans with active subscriptions (`--yes`). */
  confirmed?: boolean;
}

/** The plan fields whose change reaches what subscribers pay or get. */
export const BILLED_PLAN_FIELDS = ['price', 'included_credits'];
/** Subscriptions in a period that was paid for (or is being): they keep it as it was sold. */
const ACTIVE_SUBSCRIPTION_STATUSES = ['active', 'trialing', 'past_due'];

type Row = Record<string, unknown>;

interface EntitySync {
  entity: CatalogEntity;
  table: string;
  /** Columns that identify a row (the conflict target). */
  keyColumns: string[];
  rows: Row[];
  /** Columns compared and written, besides the key. */
  valueColumns: string[];
  /** A readable key for the report. */
  describe(row: Row): string;
}

function comparable(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Compares the catalog rows with the database and writes the difference in one statement. */
async function syncEntity(trx: Knex.Transaction, sync: EntitySync, dryRun: boolean): Promise<CatalogChange[]> {
  if (sync.rows.length === 0) return [];
  const keyOf = (row: Row) => sync.keyColumns.map((column) => String(row[column])).join('\u0000');
  const existing: Row[] = await trx(sync.table)
    .select([...sync.keyColumns, ...sync.valueColumns])
    .whereIn(sync.keyColumns, sync.rows.map((row) => sync.keyColumns.map((column) => row[column])) as never)
    .forUpdate();
  const byKey = new Map(existing.map((row) => [keyOf(row), row]));
  const changes: CatalogChange[] = [];
  const writes: Row[] = [];
  for (const row of sync.rows) {
    const current = byKey.get(keyOf(row));
    const fields: CatalogChange['fields'] = {};
    for (const column of sync.valueColumns) {
      if (!current || comparable(current[column]) !== comparable(row[column])) {
        fields[column] = { from: current ? current[column] : null, to: row[column] };
      }
    }
    if (current && Object.keys(fields).length === 0) continue;
    changes.push({ entity: sync.entity, key: sync.describe(row), action: current ? 'updated' : 'created', fields });
    writes.push(Object.fromEntries([...sync.keyColumns, ...sync.valueColumns].map((column) => [column, row[column]])));
  }
  if (writes.length > 0 && !dryRun) {
    await trx(sync.table).insert(writes).onConflict(sync.keyColumns).merge(sync.valueColumns);
  }
  return changes;
}

/** The catalog lives in igny8's tables (legacy or target shape); a database without them is refused. */
function requireCatalogTables(schema: SchemaInfo): void {
  if (['igny8_plans', 'igny8_industries', 'igny8_industry_sectors'].every((table) => schema.hasTable(table))) return;
  throw new DomainRefusal('the database has no igny8 schema: run `igny8 migrate` first (then `igny8 catalog sync`)', {
    code: 'schema-not-migrated',
  });
}

/** Active subscriptions per plan slug, on either shape (legacy subscriptions take the account's plan). */
async function activeSubscriptions(trx: Knex.Transaction, schema: SchemaInfo, slugs: readonly string[]): Promise<Map<string, number>> {
  if (slugs.length === 0 || !schema.hasTable('igny8_subscriptions')) return new Map();
  const planOf = schema.hasColumn('igny8_subscriptions', 'plan_id')
    ? 's.plan_id'
    : `(select a.plan_id from ${schema.accountsTable} a where a.id = s.${schema.accountColumn('igny8_subscriptions')})`;
  const result = await trx.raw(
    `select p.slug, count(s.id)::int as n from igny8_plans p join igny8_subscriptions s on ${planOf} = p.id
      where p.slug = any(?::text[]) and s.status = any(?::text[]) group by p.slug`,
    [[...slugs], ACTIVE_SUBSCRIPTION_STATUSES] as unknown as Knex.RawBinding[],
  );
  return new Map((result.rows as Array<{ slug: string; n: number }>).map((row) => [row.slug, Number(row.n)]));
}

/**
 * Plans are compared and written by the plan-catalog-drift rule's own comparison and
 * statement, so `catalog sync` clears exactly what the audit reports. A change of price or
 * credits on a plan people are subscribed to needs confirming: nothing already invoiced or
 * granted changes, the new values apply from each subscription's next period (as a Stripe
 * price change does), and the operator should know that before it happens.
 */
async function syncPlans(
  trx: Knex.Transaction,
  schema: SchemaInfo,
  plans: readonly CatalogPlan[],
  options: CatalogSyncOptions,
): Promise<CatalogChange[]> {
  const sectorLimit = schema.sectorLimitColumn;
  await lockPlans(trx, plans.map((plan) => plan.slug));
  const drifted = await comparePlansWithCatalog(trx, sectorLimit, plans);
  if (drifted.length === 0) return [];
  const billed = drifted.filter((plan) => !plan.missing && plan.fields.some(({ field }) => BILLED_PLAN_FIELDS.includes(field)));
  const subscribed = await activeSubscriptions(trx, schema, billed.map((plan) => plan.slug));
  const changes: CatalogChange[] = drifted.map((plan) => ({
    entity: 'plan',
    key: plan.slug,
    action: plan.missing ? 'created' : 'updated',
    fields: Object.fromEntries(plan.fields.map(({ field, from, to }) => [field, { from, to }])),
    ...(subscribed.has(plan.slug) ? { activeSubscriptions: subscribed.get(plan.slug) } : {}),
  }));
  if (options.dryRun) return changes;
  const unconfirmed = changes.filter((change) => change.activeSubscriptions);
  if (unconfirmed.length > 0 && !options.confirmed) {
    throw new DomainRefusal('catalog sync changes the price or credits of plans with active subscriptions: confirm with --yes', {
      code: 'catalog-billed-change',
      details: [
        ...unconfirmed.map(
          (change) =>
            `${change.key}: ${BILLED_PLAN_FIELDS.filter((field) => change.fields[field])
              .map((field) => `${field} ${showValue(change.fields[field].from)} → ${showValue(change.fields[field].to)}`)
              .join(', ')} (${change.activeSubscriptions} active subscriptions)`,
        ),
        'current periods keep what was invoiced and granted; the new values apply from each next period',
        'nothing was written; `igny8 catalog sync --dry-run` shows every change',
      ],
    });
  }
  const statement = syncPlansSql(sectorLimit, plans, drifted.map((plan) => plan.slug));
  await trx.raw(statement.sql, statement.bindings);
  return changes;
}

/** Makes plans, industries and industry sectors match the catalog. Works on every shape. */
export async function syncCatalog(
  trx: Knex.Transaction,
  catalog = loadCatalog(),
  options: CatalogSyncOptions = {},
): Promise<CatalogChange[]> {
  const schema = await inspectSchema(trx);
  requireCatalogTables(schema);
  const dryRun = options.dryRun ?? false;
  const plans = await syncPlans(trx, schema, catalog.plans, options);
  const industries = await syncEntity(
    trx,
    {
      entity: 'industry',
      table: 'igny8_industries',
      keyColumns: ['slug'],
      valueColumns: ['name', 'description', 'is_active'],
      rows: catalog.industries.map(({ sectors: _sectors, ...industry }) => industry),
      describe: (row) => String(row.slug),
    },
    dryRun,
  );
  const ids: Array<{ id: number; slug: string }> = await trx('igny8_industries')
    .select('id', 'slug')
    .whereIn('slug', catalog.industries.map((industry) => industry.slug));
  const industryId = new Map(ids.map((row) => [row.slug, row.id]));
  const slugOfIndustry = new Map(ids.map((row) => [row.id, row.slug]));
  // In a dry run a new industry has no id yet: its sectors are all new.
  const sectors = await syncEntity(
    trx,
    {
      entity: 'industry_sector',
      table: 'igny8_industry_sectors',
      keyColumns: ['industry_id', 'slug'],
      valueColumns: ['name', 'description', 'is_active'],
      rows: catalog.industries.flatMap((industry) =>
        industry.sectors.map((sector) => ({ industry_id: industryId.get(industry.slug) ?? -1, ...sector })),
      ),
      describe: (row) => `${slugOfIndustry.get(row.industry_id as number) ?? 'new industry'}/${String(row.slug)}`,
    },
    dryRun,
  );
  return [...plans, ...industries, ...sectors];
}

export interface CatalogView {
  plans: Row[];
  industries: Array<Row & { sectors: Row[] }>;
}

/** Plans, industries and sectors as stored in the database. */
export async function readCatalog(knex: Knex | Knex.Transaction): Promise<CatalogView> {
  const schema = await inspectSchema(knex);
  requireCatalogTables(schema);
  const plans: Row[] = await knex('igny8_plans')
    .select(
      'slug',
      'name',
      'price',
      'billing_cycle',
      'included_credits',
      'max_sites',
      'max_users',
      knex.raw(`${schema.sectorLimitColumn} as max_sectors_per_site`),
      'is_active',
    )
    .orderBy('price')
    .orderBy('slug');
  const industries: Row[] = await knex('igny8_industries').select('id', 'slug', 'name', 'is_active').orderBy('slug');
  const sectors: Row[] = await knex('igny8_industry_sectors')
    .select('industry_id', 'slug', 'name', 'is_active')
    .orderBy('slug');
  return {
    plans,
    industries: industries.map(({ id, ...industry }) => ({
      ...industry,
      sectors: sectors.filter((sector) => sector.industry_id === id).map(({ industry_id: _id, ...rest }) => rest),
    })),
  };
}
