// seed #5: free accounts got 100 signup credits where the catalog promises 1,000. Each gets
// the difference once, as the credit service grants: balance and ledger row (with
// balance_after) together, marked so that it is recognised on every shape (metadata repair
// marker and key, and the idempotency key column where it exists), which makes a second run a no-op.
import { SHORTFALL_MARKER, shortfallCorrectionSql } from '../checks/signup-credit-shortfall.js';
import { catalogPlan } from '../domain/catalog.js';
import { insertLogged, tally, updateLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext, RepairKey, TableCounts } from './types.js';

const LEDGER = 'igny8_credit_transactions';

function hasKeyColumn(ctx: RepairContext): boolean {
  return ctx.schema.hasColumn(LEDGER, 'idempotency_key');
}

/** Free accounts whose signup credits (first non-correction grant + corrections) fall short. */
function shortfallSql(ctx: RepairContext): { sql: string; bindings: unknown[] } {
  const { accounts, acct } = names(ctx.schema);
  const col = acct(LEDGER);
  const expected = catalogPlan('free')?.included_credits ?? 0;
  const correction = shortfallCorrectionSql(ctx.schema);
  return {
    sql: `select a.id, a.slug, a.credits, coalesce(f.amount, 0) + coalesce(l.corrections, 0) as signup,
                 ?::integer as catalog_credits, ?::integer - coalesce(f.amount, 0) - coalesce(l.corrections, 0) as missing
            from ${accounts} a
            join igny8_plans p on p.id = a.plan_id and p.slug = 'free'
            left join (select ${col} as account_id,
                              min(id) filter (where amount > 0 and not ${correction}) as first_id,
                              sum(amount) filter (where ${correction}) as corrections
                         from ${LEDGER} group by ${col}) l on l.account_id = a.id
            left join ${LEDGER} f on f.id = l.first_id
           where coalesce(f.amount, 0) + coalesce(l.corrections, 0) < ?::integer${inScope(ctx, 'a.id')}`,
    bindings: [expected, expected, expected],
  };
}

export const signupCreditShortfall: Repair = {
  checkId: 'signup-credit-shortfall',
  action: 'grant the missing signup credits once: balance and ledger row together, with an idempotency key',
  table: (schema) => schema.accountsTable,
  async targets(ctx, keys) {
    const shortfall = shortfallSql(ctx);
    const filter = within('f.id', keys);
    return ids(ctx, `select f.id from (${shortfall.sql}) f where true${filter.sql} order by f.id`, [
      ...shortfall.bindings,
      ...filter.bindings,
    ]);
  },
  async examples(ctx, keys) {
    const shortfall = shortfallSql(ctx);
    const found = await rows<{ id: number; slug: string; signup: number; catalog_credits: number; missing: number }>(
      ctx,
      `select f.* from (${shortfall.sql}) f where f.id = any(?::bigint[]) order by f.id`,
      [...shortfall.bindings, keys],
    );
    return found.map((row) => ({
      key: `account:${row.id}`,
      account: row.slug,
      signup_credits: Number(row.signup),
      catalog_credits: row.catalog_credits,
      change: `grant +${row.missing}`,
    }));
  },
  async apply(ctx, keys: RepairKey[]) {
    const { accounts, acct } = names(ctx.schema);
    const shortfall = shortfallSql(ctx);
    const grants = await rows<{ id: number; missing: number; signup: number; catalog_credits: number }>(
      ctx,
      `select f.id, f.missing, f.signup, f.catalog_credits from (${shortfall.sql}) f where f.id = any(?::bigint[]) order by f.id`,
      [...shortfall.bindings, keys],
    );
    const counts: TableCounts = {};
    if (grants.length === 0) return counts;
    const grant = `jsonb_to_recordset(?::jsonb) as g(id bigint, missing integer, signup integer, catalog_credits integer)`;
    const payload = JSON.stringify(grants.map((row) => ({ ...row, signup: Number(row.signup) })));
    tally(
      counts,
      accounts,
      await updateLogged(ctx, accounts, 'credits = t.credits + src.missing, updated_at = now()', `select g.id, g.missing from ${grant}`, [
        payload,
      ]),
    );
    // The rows are locked, so each account's balance read here is the one just written.
    const col = acct(LEDGER);
    const key = hasKeyColumn(ctx);
    tally(
      counts,
      LEDGER,
      await insertLogged(
        ctx,
        LEDGER,
        `${col}, transaction_type, amount, balance_after, description, metadata${key ? ', idempotency_key' : ''}`,
        `select a.id, 'adjustment', g.missing, a.credits, 'signup credits shortfall correction',
                jsonb_build_object('repair', '${SHORTFALL_MARKER}', 'idempotency_key', '${SHORTFALL_MARKER}:' || a.id,
                                   'signup_credits', g.signup, 'catalog_credits', g.catalog_credits)${key ? `, '${SHORTFALL_MARKER}:' || a.id` : ''}
           from ${grant} join ${accounts} a on a.id = g.id`,
        [payload],
      ),
    );
    return counts;
  },
};
