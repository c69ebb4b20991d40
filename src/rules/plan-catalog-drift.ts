// seed #5, #7: plan rows must equal the catalog fixture (free = 1,000 credits, not 100).
//
// One comparison (./plan-catalog.ts) serves the audit, this repair, `catalog sync` and
// registration. They disagreed: the check and `catalog sync` compared nine fields (name,
// price, billing cycle, credits, sites, users, features, sector limit, offered), registration
// only six (not name, features or is_active). All now compare the nine: a plan the audit
// reports is a plan registration refuses, and one sync clears both.
//
// Repair: `catalog sync` of the plans this rule finds (missing ones are created), each
// written row logged before and after. It used to sync industries and industry sectors too,
// which this rule does not report: they stay with `igny8 catalog sync`.
import { loadCatalog } from '../domain/catalog.js';
import { writeLogged } from '../repairs/log.js';
import { driftedPlansSql, lockPlans, PLANS, syncPlansSql, type FieldDrift } from './plan-catalog.js';
import { missingTables } from './sql.js';
import type { Rule, Shape } from './types.js';

/** Under --account, only the plan that account is on. */
function scope(shape: Shape): string {
  if (shape.accountId === undefined) return '';
  return ` and d.slug in (select pp.slug from ${PLANS} pp join ${shape.schema.accountsTable} a on a.plan_id = pp.id
                           where a.id = ${Number(shape.accountId)})`;
}

export const planCatalogDrift: Rule = {
  id: 'plan-catalog-drift',
  severity: 'error',
  scope: 'database',
  title: 'plan rows differing from the catalog',
  remedy: 'igny8 catalog sync (or igny8 repair plan-catalog-drift)',
  verdict(shape) {
    return missingTables(shape, PLANS);
  },
  findings(shape, within) {
    const drifted = driftedPlansSql(shape.schema.sectorLimitColumn, loadCatalog().plans);
    // Targets are plan slugs: a missing plan has no id yet.
    const batch = within === undefined ? '' : ' and d.slug = any(?::text[])';
    return {
      sql: `select 'plan:' || d.slug as key, d.slug as target, null as account, d.slug as sort, d.slug as plan,
                   case when d.missing then 'missing from the database'
                        else (select string_agg(f.value->>'field', ', ' order by f.n)
                                from jsonb_array_elements(d.fields) with ordinality f(value, n)) end as differs,
                   d.credits, d.catalog_credits, d.missing as _missing, d.fields as _fields
              from (${drifted.sql}) d
             where true${scope(shape)}${batch}`,
      bindings: [drifted.binding, ...(within === undefined ? [] : [within.map(String)])],
    };
  },
  repair: {
    action: 'catalog sync of plans: each plan takes the catalog fixture values; a missing one is created',
    table: () => PLANS,
    batchSize: 0,
    change: (row) =>
      row._missing
        ? 'created from the catalog'
        : (row._fields as FieldDrift[])
            .map(({ field, from, to }) => `${field} ${JSON.stringify(from)} → ${JSON.stringify(to)}`)
            .join(', '),
    async lock(ctx, keys) {
      await lockPlans(ctx.trx, keys.map(String));
    },
    async apply(ctx, keys) {
      const statement = syncPlansSql(ctx.shape.schema.sectorLimitColumn, loadCatalog().plans, keys.map(String));
      return { [PLANS]: await writeLogged(ctx, PLANS, statement.sql, statement.bindings) };
    },
  },
};
