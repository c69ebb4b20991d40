// A tenant row must never point into another account: a sector at another account's site,
// an access row joining a user to another account's site, an invoice naming another
// account's subscription, an integration on another account's site. The target's composite
// foreign keys (account_id, x_id) → (account_id, id) guarantee it, reference by reference.
import { enforced, missingTables, runFindings } from './query.js';
import type { Check, CheckContext } from './types.js';

interface Reference {
  kind: string;
  table: string;
  keyPrefix: string;
  /** The composite foreign keys that make this reference safe: [columns, referenced table]. */
  guards: Array<[string[], string]>;
  /** SQL selecting id, account_id (the row's), other_account_id for rows that cross. */
  sql(ctx: CheckContext): string;
}

function references(ctx: CheckContext): Reference[] {
  const { schema } = ctx;
  const of = (table: string) => schema.accountColumn(table);
  // A row of `table` whose `column` names a row of `target` in another account.
  const pointer = (kind: string, table: string, keyPrefix: string, column: string, target: string): Reference => ({
    kind,
    table,
    keyPrefix,
    guards: [[[of(table), column], target]],
    sql: () => `select r.id, r.${of(table)} as account_id, t.${of(target)} as other_account_id
                  from ${table} r join ${target} t on t.id = r.${column}
                 where r.${of(table)} <> t.${of(target)}`,
  });
  const list: Reference[] = [
    pointer('sector → site', 'igny8_sectors', 'sector', 'site_id', 'igny8_sites'),
    pointer('integration → site', 'igny8_site_integrations', 'integration', 'site_id', 'igny8_sites'),
    pointer('invoice → subscription', 'igny8_invoices', 'invoice', 'subscription_id', 'igny8_subscriptions'),
  ];
  // Legacy access rows have no account of their own: the site's account is theirs, and the
  // user must belong to it. Target rows carry account_id, which must match both sides.
  const accessOwn = schema.hasColumn('igny8_site_user_access', 'account_id');
  list.push({
    kind: 'access → user/site',
    table: 'igny8_site_user_access',
    keyPrefix: 'access',
    guards: accessOwn
      ? [
          [['account_id', 'site_id'], 'igny8_sites'],
          [['account_id', 'user_id'], 'igny8_users'],
        ]
      : [[['account_id', 'site_id'], 'igny8_sites']],
    sql: () =>
      accessOwn
        ? `select r.id, r.account_id,
                  case when t.${of('igny8_sites')} <> r.account_id then t.${of('igny8_sites')} else u.${of('igny8_users')} end
                    as other_account_id
             from igny8_site_user_access r
             join igny8_sites t on t.id = r.site_id
             join igny8_users u on u.id = r.user_id
            where t.${of('igny8_sites')} <> r.account_id or u.${of('igny8_users')} <> r.account_id`
        : `select r.id, t.${of('igny8_sites')} as account_id, u.${of('igny8_users')} as other_account_id
             from igny8_site_user_access r
             join igny8_sites t on t.id = r.site_id
             join igny8_users u on u.id = r.user_id
            where u.${of('igny8_users')} <> t.${of('igny8_sites')}`,
  });
  return list;
}

export const crossTenantReference: Check = {
  id: 'cross-tenant-reference',
  severity: 'error',
  title: 'rows pointing into another account',
  remedy: 'no repair: a person decides which account the row belongs to (blocks the composite foreign keys)',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sites', 'igny8_users', 'igny8_subscriptions', accounts);
    if (missing) return missing;
    const present = references(ctx).filter((reference) => schema.hasTable(reference.table));
    const open: Reference[] = [];
    const guardedBy: string[] = [];
    for (const reference of present) {
      const keys = reference.guards.map(([columns, target]) => ctx.constraints.foreignKey(reference.table, columns, target));
      if (keys.every((key) => key !== undefined)) guardedBy.push(...keys.map((key) => key!.name));
      else open.push(reference);
    }
    if (open.length === 0) return enforced(`composite foreign keys ${guardedBy.join(', ')}`);
    const id = ctx.scope.accountId;
    const scope = id === undefined ? '' : ` where x.account_id = ${Number(id)} or x.other_account_id = ${Number(id)}`;
    const union = open
      .map(
        (reference) =>
          `select '${reference.keyPrefix}:' || q.id as key, '${reference.kind}' as kind, q.id, q.account_id, q.other_account_id
             from (${reference.sql(ctx)}) q`,
      )
      .join(' union all ');
    return runFindings(ctx, {
      // Slugs by index lookup for the few crossing rows (a join would hash every account twice).
      sql: `select x.key, (select a.slug from ${accounts} a where a.id = x.account_id) as account, x.key as sort, x.kind,
                   (select o.slug from ${accounts} o where o.id = x.other_account_id) as other_account
              from (${union}) x${scope}`,
    });
  },
};
