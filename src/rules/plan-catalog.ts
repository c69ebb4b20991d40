// seed #5, #7: what "a plan row matches the catalog" means, written once. The audit's
// plan-catalog-drift finds the plans that differ with this comparison, its repair and
// `catalog sync` write the catalog's values with this statement, and registration refuses a
// plan this comparison finds drifted. The catalog plans come in as an argument, so the
// catalog loader (domain/catalog.ts) can use this module without a cycle.
import type { Knex } from 'knex';
import type { CatalogPlan } from '../domain/catalog.js';

export const PLANS = 'igny8_plans';

/**
 * The plan columns the catalog decides, in report order, with their SQL types. The sector
 * limit is named as the catalog names it; on a plan row it is the shape's sector limit
 * column (legacy `max_industries`). Every catalog plan is offered: `is_active` is true.
 */
export const PLAN_CATALOG_FIELDS = [
  { field: 'name', type: 'text' },
  { field: 'price', type: 'numeric' },
  { field: 'billing_cycle', type: 'text' },
  { field: 'included_credits', type: 'integer' },
  { field: 'max_sites', type: 'integer' },
  { field: 'max_users', type: 'integer' },
  { field: 'features', type: 'jsonb' },
  { field: 'max_sectors_per_site', type: 'integer' },
  { field: 'is_active', type: 'boolean' },
] as const;

/** One field of a plan row that differs from the catalog: its column and both values. */
export interface FieldDrift {
  field: string;
  from: unknown;
  to: unknown;
}

export interface PlanDrift {
  slug: string;
  /** The catalog names the plan and the database has no row for it. */
  missing: boolean;
  fields: FieldDrift[];
}

/** The column of a plan row that holds `field` on a shape whose sector limit column is `sectorLimit`. */
function columnOf(field: string, sectorLimit: string): string {
  return field === 'max_sectors_per_site' ? sectorLimit : field;
}

/** The catalog's plans as the relation `c` (slug and every compared field), with its binding. */
function catalogPlansSql(plans: readonly CatalogPlan[]): { sql: string; binding: string } {
  const columns = ['slug text', ...PLAN_CATALOG_FIELDS.map(({ field, type }) => `${field} ${type}`)].join(', ');
  return {
    sql: `jsonb_to_recordset(cast(? as jsonb)) as c(${columns})`,
    binding: JSON.stringify(plans.map((plan) => ({ ...plan, is_active: true }))),
  };
}

/**
 * The comparison: for plan row `p` (null columns when the row is missing) and catalog row
 * `c`, a jsonb array of the fields that differ, in report order, each
 * `{field, from, to}` with `field` named as the plan row names it.
 */
function planDifferencesSql(sectorLimit: string): string {
  const fields = PLAN_CATALOG_FIELDS.map(({ field }, index) => {
    const column = columnOf(field, sectorLimit);
    return `(${index + 1}, '${column}', p.${column} is distinct from c.${field}, to_jsonb(p.${column}), to_jsonb(c.${field}))`;
  });
  return `(select coalesce(jsonb_agg(jsonb_build_object('field', d.field, 'from', d.actual, 'to', d.wanted) order by d.n), '[]'::jsonb)
             from (values ${fields.join(',\n                          ')}) d(n, field, differs, actual, wanted)
            where d.differs)`;
}

/**
 * The catalog plans whose row is missing or differs, one row each: slug, missing, the row's
 * and the catalog's credits, and `fields` (the differing fields, as planDifferencesSql).
 */
export function driftedPlansSql(sectorLimit: string, plans: readonly CatalogPlan[]): { sql: string; binding: string } {
  const catalog = catalogPlansSql(plans);
  return {
    sql: `select c.slug, p.id is null as missing, p.included_credits as credits, c.included_credits as catalog_credits, x.fields
            from ${catalog.sql}
            left join ${PLANS} p on p.slug = c.slug
           cross join lateral (select ${planDifferencesSql(sectorLimit)} as fields) x
           where jsonb_array_length(x.fields) > 0`,
    binding: catalog.binding,
  };
}

/** Locks the plan rows of these slugs, so a comparison and the write after it see the same rows. */
export async function lockPlans(knex: Knex | Knex.Transaction, slugs: readonly string[]): Promise<void> {
  await knex.raw(`select id from ${PLANS} where slug = any(?::text[]) order by id for update`, [[...slugs]] as unknown as Knex.RawBinding[]);
}

/** The catalog plans (of `slugs` when given) whose row is missing or differs, with each differing field. */
export async function comparePlansWithCatalog(
  knex: Knex | Knex.Transaction,
  sectorLimit: string,
  plans: readonly CatalogPlan[],
  slugs?: readonly string[],
): Promise<PlanDrift[]> {
  const drifted = driftedPlansSql(sectorLimit, plans);
  const result = await knex.raw(
    `select d.slug, d.missing, d.fields from (${drifted.sql}) d${slugs ? ' where d.slug = any(?::text[])' : ''} order by d.slug`,
    [drifted.binding, ...(slugs ? [[...slugs]] : [])] as unknown as Knex.RawBinding[],
  );
  return result.rows as PlanDrift[];
}

/**
 * The statement that writes the catalog's values into the plans `slugs` names, creating a
 * missing one: `catalog sync` runs it as it is, the repair through the repair log. It
 * returns each written row's id, its image before (null for a new row) and after.
 */
export function syncPlansSql(
  sectorLimit: string,
  plans: readonly CatalogPlan[],
  slugs: readonly string[],
): { sql: string; bindings: Knex.RawBinding[] } {
  const catalog = catalogPlansSql(plans);
  const columns = PLAN_CATALOG_FIELDS.map(({ field }) => columnOf(field, sectorLimit));
  return {
    sql: `insert into ${PLANS} as t (slug, ${columns.join(', ')})
          select c.slug, ${PLAN_CATALOG_FIELDS.map(({ field }) => `c.${field}`).join(', ')}
            from ${catalog.sql}
           where c.slug = any(?::text[])
          on conflict (slug) do update set ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}
          -- the subquery reads the table as the statement found it: the row before this write
          returning t.id, (select to_jsonb(o) from ${PLANS} o where o.id = t.id) as before, to_jsonb(t) as after`,
    bindings: [catalog.binding, [...slugs]] as unknown as Knex.RawBinding[],
  };
}

/** A value of a field drift, as a person reads it. */
export function showValue(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}
