// seed #3: registration created the user, then the account, then linked them; a failure in
// between left users without an account. On the target, `users.account_id not null` makes
// them impossible (migration 0008 is gated by this rule).
//
// Repair: a user some account's legacy owner_id names belongs to that account; any other gets
// a recovery account on the free plan, made as registration makes one (active, the plan's
// credits with their ledger row, the user as its owner).
import { DomainRefusal } from '../errors.js';
import { insertLogged, tally, updateLogged } from '../repairs/log.js';
import { insertLedgerRows, LEDGER } from './ledger.js';
import { enforcedByNotNull, missingTables, scopeTo, withinIds } from './sql.js';
import type { RepairContext, Rule, TableCounts, TargetKey } from './types.js';

const USERS = 'igny8_users';

function hasOwnerId(ctx: RepairContext): boolean {
  return ctx.shape.schema.hasColumn(ctx.shape.schema.accountsTable, 'owner_id');
}

async function attachNamed(ctx: RepairContext, keys: readonly TargetKey[]): Promise<number> {
  if (!hasOwnerId(ctx)) return 0;
  const { schema } = ctx.shape;
  const accountColumn = schema.accountColumn(USERS);
  return updateLogged(
    ctx,
    USERS,
    `${accountColumn} = src.account_id`,
    `select distinct on (u.id) u.id, a.id as account_id
       from ${USERS} u join ${schema.accountsTable} a on a.owner_id = u.id
      where u.id = any(?::bigint[]) and u.${accountColumn} is null
      order by u.id, a.id`,
    [keys],
  );
}

async function createRecoveryAccounts(ctx: RepairContext, keys: readonly TargetKey[], counts: TableCounts): Promise<void> {
  const { schema } = ctx.shape;
  const accounts = schema.accountsTable;
  const userAccountColumn = schema.accountColumn(USERS);
  const remaining = (
    await ctx.trx.raw(
      `select o.id as user_id, nextval(pg_get_serial_sequence(?, 'id')) as account_id
         from ${USERS} o where o.id = any(?::bigint[]) and o.${userAccountColumn} is null order by o.id`,
      [accounts, keys as number[]],
    )
  ).rows as Array<{ user_id: number; account_id: number }>;
  if (remaining.length === 0) return;
  const [free] = (await ctx.trx.raw(`select id from igny8_plans where slug = 'free'`)).rows as Array<{ id: number }>;
  if (!free) {
    throw new DomainRefusal('orphan-users: there is no free plan for the recovery accounts; nothing was written', {
      details: ['run `igny8 repair plan-catalog-drift --yes` (or `igny8 catalog sync`) first'],
    });
  }
  const map = [remaining.map((row) => row.user_id), remaining.map((row) => row.account_id)];
  const mapping = `unnest(?::bigint[], ?::bigint[]) as m(user_id, account_id)`;
  const ownerColumn = hasOwnerId(ctx) ? ', owner_id' : '';
  const ownerValue = hasOwnerId(ctx) ? ', m.user_id' : '';
  // The slug names the user; the new id breaks the (unlikely) tie with an existing slug.
  tally(
    counts,
    accounts,
    await insertLogged(
      ctx,
      accounts,
      `id, name, slug, plan_id, credits, status, billing_email${ownerColumn}`,
      `select m.account_id,
              left('Recovered account of ' || u.email, 255),
              case when exists (select 1 from ${accounts} x where x.slug = 'recovered-' || u.id)
                   then 'recovered-' || u.id || '-' || m.account_id else 'recovered-' || u.id end,
              p.id, p.included_credits, 'active', u.email${ownerValue}
         from ${mapping} join ${USERS} u on u.id = m.user_id cross join igny8_plans p
        where p.id = ?`,
      [...map, free.id],
    ),
  );
  tally(
    counts,
    USERS,
    await updateLogged(ctx, USERS, `${userAccountColumn} = src.account_id, role = 'owner'`, `select m.user_id as id, m.account_id from ${mapping}`, map),
  );
  // seed #5, #11: the plan's credits arrive with their ledger row, as registration grants them.
  tally(
    counts,
    LEDGER,
    await insertLedgerRows(
      ctx,
      `select a.id as account_id, 'subscription' as transaction_type, a.credits as amount, a.credits as balance_after,
              'signup credits: ' || p.name as description,
              jsonb_build_object('reason', 'signup', 'plan', p.slug, 'recovered_user_id', m.user_id) as metadata,
              'signup' as idempotency_key
         from ${mapping} join ${accounts} a on a.id = m.account_id join igny8_plans p on p.id = a.plan_id
        where a.credits > 0`,
      map,
    ),
  );
}

export const orphanUsers: Rule = {
  id: 'orphan-users',
  severity: 'error',
  scope: 'account',
  title: 'users without an account',
  remedy: 'igny8 repair orphan-users: attach to the account whose owner_id names them, else a recovery account on the free plan',
  verdict(shape) {
    return (
      missingTables(shape, USERS, shape.schema.accountsTable) ??
      enforcedByNotNull(shape, USERS, shape.schema.accountColumn(USERS))
    );
  },
  findings(shape, within) {
    const { schema } = shape;
    const accounts = schema.accountsTable;
    // Which account claims the user (legacy owner_id): the sample says where it belongs, and
    // under --account only the orphans that account claims are its own.
    const claimedBy = schema.hasColumn(accounts, 'owner_id')
      ? `left join lateral (select a.id, a.slug from ${accounts} a where a.owner_id = u.id order by a.id limit 1) a on true`
      : `left join (select null::bigint as id, null::text as slug) a on true`;
    const batch = withinIds('u.id', within);
    return {
      sql: `select 'user:' || u.id as key, u.id as target, a.slug as account, u.id as sort,
                   u.id as user_id, u.email, u.role, cast(u.date_joined as date)::text as joined
              from ${USERS} u ${claimedBy}
             where u.${schema.accountColumn(USERS)} is null${scopeTo(shape, 'a.id')}${batch.sql}`,
      bindings: batch.bindings,
    };
  },
  repair: {
    action: 'attach each user to the account whose owner_id names it; otherwise give it a recovery account on the free plan, as its owner',
    table: () => USERS,
    change: (row) => (row.account ? `attach to ${String(row.account)}` : 'new recovery account on the free plan (owner)'),
    async apply(ctx, keys) {
      const counts: TableCounts = {};
      tally(counts, USERS, await attachNamed(ctx, keys));
      await createRecoveryAccounts(ctx, keys, counts);
      return counts;
    },
  },
};
