// A tenant row must never point into another account: a sector at another account's site,
// an access row joining a user to another account's site, an invoice naming another
// account's subscription, an integration on another account's site. The target's composite
// foreign keys (account_id, x_id) → (account_id, id) guarantee it, reference by reference;
// migration 0020, which adds them, is gated by this rule. No repair: a person decides which
// account each row belongs to.
import { missingTables, scopeTo } from './sql.js';
import type { Rule, Shape } from './types.js';

interface Reference {
  kind: string;
  table: string;
  /** The composite foreign keys that make this reference safe: [columns, referenced table]. */
  guards: Array<[string[], string]>;
  /** SELECT key, kind, account_id (the row's claim), target_id: one row per pointer. */
  pointers: string;
  /** The table the pointers point at; every reference to one table shares one join. */
  target: string;
  /** The row's account is the target's, and account_id names the other (legacy access rows). */
  claimIsOther?: boolean;
}

function references(shape: Shape): Reference[] {
  const { schema } = shape;
  const of = (table: string) => schema.accountColumn(table);
  // A row of `table` whose `column` names a row of `target` in another account.
  const pointer = (kind: string, table: string, keyPrefix: string, column: string, target: string): Reference => ({
    kind,
    table,
    target,
    guards: [[[of(table), column], target]],
    pointers: `select '${keyPrefix}:' || r.id as key, '${kind}' as kind, r.${of(table)} as account_id, r.${column} as target_id
                 from ${table} r`,
  });
  const list: Reference[] = [
    pointer('sector → site', 'igny8_sectors', 'sector', 'site_id', 'igny8_sites'),
    pointer('integration → site', 'igny8_site_integrations', 'integration', 'site_id', 'igny8_sites'),
    pointer('invoice → subscription', 'igny8_invoices', 'invoice', 'subscription_id', 'igny8_subscriptions'),
  ];
  const access = 'igny8_site_user_access';
  if (schema.hasColumn(access, 'account_id')) {
    // Target access rows carry account_id, which must match the site's and the user's.
    list.push(
      pointer('access → user/site', access, 'access', 'site_id', 'igny8_sites'),
      pointer('access → user/site', access, 'access', 'user_id', 'igny8_users'),
    );
  } else {
    // Legacy access rows have no account of their own: the site's account is theirs, and the
    // user must belong to it, so the user's account is the claim compared with the site's.
    list.push({
      kind: 'access → user/site',
      table: access,
      target: 'igny8_sites',
      guards: [[['account_id', 'site_id'], 'igny8_sites']],
      claimIsOther: true,
      pointers: `select 'access:' || r.id as key, 'access → user/site' as kind, u.${of('igny8_users')} as account_id, r.site_id as target_id
                   from ${access} r join igny8_users u on u.id = r.user_id`,
    });
  }
  return list;
}

/** The references whose composite foreign keys are not all in place yet, and the keys that are. */
function unguarded(shape: Shape): { open: Reference[]; guardedBy: string[] } {
  const open: Reference[] = [];
  const guardedBy = new Set<string>();
  for (const reference of references(shape).filter((candidate) => shape.schema.hasTable(candidate.table))) {
    const keys = reference.guards.map(([columns, target]) => shape.constraints.foreignKey(reference.table, columns, target));
    if (keys.every((key) => key !== undefined)) keys.forEach((key) => guardedBy.add(key!.name));
    else open.push(reference);
  }
  return { open, guardedBy: [...guardedBy] };
}

/** One join per target table: rows of several tables pointing at sites meet the sites once. */
function crossingsInto(shape: Shape, target: string, group: Reference[], rank: number): string {
  const accountColumn = shape.schema.accountColumn(target);
  const flip = (reference: Reference) => (reference.claimIsOther ? 'true' : 'false');
  const union = group
    .map((reference) => `select p.key, p.kind, p.account_id, p.target_id, ${flip(reference)} as claim_is_other from (${reference.pointers}) p`)
    .join(' union all ');
  return `select q.key, q.kind, ${rank} as rank,
                 case when q.claim_is_other then t.${accountColumn} else q.account_id end as account_id,
                 case when q.claim_is_other then q.account_id else t.${accountColumn} end as other_account_id
            from (${union}) q join ${target} t on t.id = q.target_id
           where q.account_id <> t.${accountColumn}`;
}

export const crossTenantReference: Rule = {
  id: 'cross-tenant-reference',
  severity: 'error',
  scope: 'account',
  title: 'rows pointing into another account',
  remedy: 'no repair: a person decides which account the row belongs to (blocks the composite foreign keys)',
  verdict(shape) {
    const missing = missingTables(shape, 'igny8_sites', 'igny8_users', 'igny8_subscriptions', shape.schema.accountsTable);
    if (missing) return missing;
    const { open, guardedBy } = unguarded(shape);
    return open.length === 0 ? { kind: 'enforced', by: `composite foreign keys ${guardedBy.join(', ')}` } : undefined;
  },
  findings(shape) {
    const accounts = shape.schema.accountsTable;
    const { open } = unguarded(shape);
    const targets = [...new Set(open.map((reference) => reference.target))];
    const union = targets
      .map((target, rank) => crossingsInto(shape, target, open.filter((reference) => reference.target === target), rank))
      .join(' union all ');
    // Either side of a crossing names the account: the pointing row's, or the one pointed into.
    const scope = scopeTo(shape, 'x.account_id', 'x.other_account_id');
    return {
      // A row crossing twice (an access row whose site and user both differ) is one finding,
      // reported against the first target (the site).
      // Slugs by index lookup for the few crossing rows (a join would hash every account twice).
      sql: `select x.key, null::bigint as target, (select a.slug from ${accounts} a where a.id = x.account_id) as account,
                   x.key as sort, x.kind, (select o.slug from ${accounts} o where o.id = x.other_account_id) as other_account
              from (select distinct on (c.key) c.* from (${union}) c order by c.key, c.rank) x where true${scope}`,
    };
  },
};
