// seed #3: registration created the user, then the account, then linked them; a failure in
// between left users without an account. A user some account's owner_id names belongs to
// that account; any other gets a recovery account on the free plan, made as registration
// makes one (active, the plan's credits with their ledger row, the user as its owner).
import { DomainRefusal } from '../errors.js';
import { insertLogged, tally, updateLogged } from './log.js';
import { enforcedNotNull, ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext, RepairKey, TableCounts } from './types.js';

const USERS = 'igny8_users';
const LEDGER = 'igny8_credit_transactions';

function hasOwnerId(ctx: RepairContext): boolean {
  return ctx.schema.hasColumn(ctx.schema.accountsTable, 'owner_id');
}

/** With --account, only the orphans that account's owner_id names are in scope. */
function scopeSql(ctx: RepairContext): string {
  if (ctx.options.accountId === undefined) return '';
  if (!hasOwnerId(ctx)) return ' and false';
  const { accounts } = names(ctx.schema);
  return ` and exists (select 1 from ${accounts} a where a.owner_id = u.id${inScope(ctx, 'a.id')})`;
}

async function attachNamed(ctx: RepairContext, keys: RepairKey[]): Promise<number> {
  if (!hasOwnerId(ctx)) return 0;
  const { accounts, acct } = names(ctx.schema);
  const col = acct(USERS);
  return updateLogged(
    ctx,
    USERS,
    `${col} = src.account_id`,
    `select distinct on (u.id) u.id, a.id as account_id
       from ${USERS} u join ${accounts} a on a.owner_id = u.id
      where u.id = any(?::bigint[]) and u.${col} is null
      order by u.id, a.id`,
    [keys],
  );
}

async function createRecoveryAccounts(ctx: RepairContext, keys: RepairKey[], counts: TableCounts): Promise<void> {
  const { accounts, acct } = names(ctx.schema);
  const userCol = acct(USERS);
  const remaining = await rows<{ user_id: number; account_id: number }>(
    ctx,
    `select o.id as user_id, nextval(pg_get_serial_sequence(?, 'id')) as account_id
       from ${USERS} o where o.id = any(?::bigint[]) and o.${userCol} is null order by o.id`,
    [accounts, keys],
  );
  if (remaining.length === 0) return;
  const [free] = await rows<{ id: number }>(ctx, `select id from igny8_plans where slug = 'free'`);
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
    await updateLogged(ctx, USERS, `${userCol} = src.account_id, role = 'owner'`, `select m.user_id as id, m.account_id from ${mapping}`, map),
  );
  // seed #5, #11: the plan's credits arrive with their ledger row, as registration grants them.
  const ledgerAcct = acct(LEDGER);
  const hasKey = ctx.schema.hasColumn(LEDGER, 'idempotency_key');
  tally(
    counts,
    LEDGER,
    await insertLogged(
      ctx,
      LEDGER,
      `${ledgerAcct}, transaction_type, amount, balance_after, description, metadata${hasKey ? ', idempotency_key' : ''}`,
      `select a.id, 'subscription', a.credits, a.credits, left('signup credits: ' || p.name, 255),
              jsonb_build_object('reason', 'signup', 'plan', p.slug, 'recovered_user_id', m.user_id)${hasKey ? `, 'signup'` : ''}
         from ${mapping} join ${accounts} a on a.id = m.account_id join igny8_plans p on p.id = a.plan_id
        where a.credits > 0`,
      map,
    ),
  );
}

export const orphanUsers: Repair = {
  checkId: 'orphan-users',
  action: "attach each user to the account whose owner_id names it; otherwise give it a recovery account on the free plan, as its owner",
  table: () => USERS,
  notApplicable: (schema) =>
    enforcedNotNull(schema, USERS, schema.accountColumn(USERS)) ? 'enforced by schema: every user has an account' : undefined,
  async targets(ctx, keys) {
    const col = names(ctx.schema).acct(USERS);
    const filter = within('u.id', keys);
    return ids(ctx, `select u.id from ${USERS} u where u.${col} is null${scopeSql(ctx)}${filter.sql} order by u.id`, filter.bindings);
  },
  async examples(ctx, keys) {
    const { accounts, acct } = names(ctx.schema);
    const named = hasOwnerId(ctx)
      ? `(select a.slug from ${accounts} a where a.owner_id = u.id order by a.id limit 1)`
      : 'null::text';
    const found = await rows<{ id: number; email: string; role: string; named: string | null }>(
      ctx,
      `select u.id, u.email, u.role, ${named} as named from ${USERS} u where u.id = any(?::bigint[]) and u.${acct(USERS)} is null order by u.id`,
      [keys],
    );
    return found.map((row) => ({
      key: `user:${row.id}`,
      account: row.named,
      email: row.email,
      role: row.role,
      change: row.named ? `attach to ${row.named}` : 'new recovery account on the free plan (owner)',
    }));
  },
  async leftOver(ctx) {
    if (ctx.options.accountId === undefined) return undefined;
    const col = names(ctx.schema).acct(USERS);
    const [row] = await rows<{ count: number }>(ctx, `select count(*)::int as count from ${USERS} u where u.${col} is null`);
    const outside = row.count - (await this.targets(ctx)).length;
    return outside > 0 ? { count: outside, reason: 'users without an account that --account does not name' } : undefined;
  },
  async apply(ctx, keys) {
    const counts: TableCounts = {};
    tally(counts, USERS, await attachNamed(ctx, keys));
    await createRecoveryAccounts(ctx, keys, counts);
    return counts;
  },
};
