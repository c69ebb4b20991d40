// seed #5: plan values (free = 1,000 credits), industries and their sectors come from one
// catalog fixture. `catalog sync` makes the database match it in one transaction and says
// exactly which fields it changed; a second sync changes nothing.
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { z } from 'zod';
import { inspectSchema, type SchemaInfo } from '../schema/inspect.js';
import { DomainRefusal } from '../errors.js';
import { comparePlansWithCatalog, lockPlans, syncPlansSql } from '../rules/plan-catalog.js';

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
}

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
async function syncEntity(trx: Knex.Transaction, sync: EntitySync): Promise<CatalogChange[]> {
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
  if (writes.length > 0) {
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

/**
 * Plans are compared and written by the plan-catalog-drift rule's own comparison and
 * statement, so `catalog sync` clears exactly what the audit reports.
 */
async function syncPlans(trx: Knex.Transaction, sectorLimit: string, plans: readonly CatalogPlan[]): Promise<CatalogChange[]> {
  await lockPlans(trx, plans.map((plan) => plan.slug));
  const drifted = await comparePlansWithCatalog(trx, sectorLimit, plans);
  if (drifted.length === 0) return [];
  const statement = syncPlansSql(sectorLimit, plans, drifted.map((plan) => plan.slug));
  await trx.raw(statement.sql, statement.bindings);
  return drifted.map((plan) => ({
    entity: 'plan',
    key: plan.slug,
    action: plan.missing ? 'created' : 'updated',
    fields: Object.fromEntries(plan.fields.map(({ field, from, to }) => [field, { from, to }])),
  }));
}

/** Makes plans, industries and industry sectors match the catalog. Works on every shape. */
export async function syncCatalog(trx: Knex.Transaction, catalog = loadCatalog()): Promise<CatalogChange[]> {
  const schema = await inspectSchema(trx);
  requireCatalogTables(schema);
  const plans = await syncPlans(trx, schema.sectorLimitColumn, catalog.plans);
  const industries = await syncEntity(trx, {
    entity: 'industry',
    table: 'igny8_industries',
    keyColumns: ['slug'],
    valueColumns: ['name', 'description', 'is_active'],
    rows: catalog.industries.map(({ sectors: _sectors, ...industry }) => industry),
    describe: (row) => String(row.slug),
  });
  const ids: Array<{ id: number; slug: string }> = await trx('igny8_industries')
    .select('id', 'slug')
    .whereIn('slug', catalog.industries.map((industry) => industry.slug));
  const industryId = new Map(ids.map((row) => [row.slug, row.id]));
  const slugOfIndustry = new Map(ids.map((row) => [row.id, row.slug]));
  const sectors = await syncEntity(trx, {
    entity: 'industry_sector',
    table: 'igny8_industry_sectors',
    keyColumns: ['industry_id', 'slug'],
    valueColumns: ['name', 'description', 'is_active'],
    rows: catalog.industries.flatMap((industry) =>
      industry.sectors.map((sector) => ({ industry_id: industryId.get(industry.slug), ...sector })),
    ),
    describe: (row) => `${slugOfIndustry.get(row.industry_id as number)}/${String(row.slug)}`,
  });
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
