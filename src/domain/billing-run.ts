// The billing run (`igny8 billing run [--as-of TIME]`): what time does to every account, in
// set-based statements over all of them, in one transaction under an advisory lock (two runs
// at once run one after the other; the second finds the work done).
//
// In this order, each step reading what the previous one wrote:
// 1. plan changes scheduled for the end of a period take effect (a downgrade to a free plan
//    ends the subscription); subscriptions set to cancel at period end are cancelled;
// 2. every active or past-due subscription whose period has ended gets its next period and,
//    on a paid plan, a renewal invoice (numbered from the sequence, billing snapshot, one line
//    item, dated the period's start, due 7 days later), as often as periods have ended;
// 3. active accounts on a free plan get their monthly credits: one keyed top-up per period
//    (a month from signup, then every month), never reducing a balance;
// 4. pending invoices past their due date become overdue, and their active subscriptions
//    past_due;
// 5. active accounts with an invoice overdue longer than the grace period are suspended.
// Running it again for the same instant changes nothing: every step selects only what is
// still to do at that instant (and renewals are unique per subscription and period).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { withTransaction } from '../db/transaction.js';
import { ValidationError } from '../errors.js';
import { currentOperator } from '../operator.js';
import { billingSnapshotSql, TARGET_NAMES } from '../rules/invoice-billing-snapshot-missing.js';
import { setStatusReason } from './account-status.js';
import { topUpCreditsInBulk } from './credits.js';
import { INVOICE_NUMBER_SEQUENCE } from './invoices.js';
import { billingIntervalSql } from './billing-cycle.js';
import { requireTargetSchema } from './target-schema.js';

export const BILLING_RUNS_TABLE = 'igny8_billing_runs';

/** Days an invoice is due after it is issued. */
export const INVOICE_DUE_DAYS = 7;

/** The idempotency key of a free account's monthly credits for the period starting on `day`. */
export const FREE_PERIOD_KEY_PREFIX = 'period:';

/** A run that keeps finding periods to bill is a bug, not years of backlog: stop and say so. */
const MAX_RENEWAL_ROUNDS = 1200;

export interface BillingRunInput {
  /** The instant billed; now by default. */
  asOf?: Date;
  graceDays: number;
  dryRun?: boolean;
  reason?: string;
}

export interface BillingCounts {
  planChanges: number;
  cancellations: number;
  renewals: number;
  renewalInvoices: number;
  monthlyCredits: number;
  creditsGranted: number;
  overdueInvoices: number;
  pastDueSubscriptions: number;
  suspendedAccounts: number;
}

export interface BillingRunResult {
  /** Null for a dry run (nothing was recorded). */
  runId: string | null;
  asOf: Date;
  graceDays: number;
  dryRun: boolean;
  counts: BillingCounts;
  /** Milliseconds each step took, in order (where a large run spends its time). */
  stepMs: Record<string, number>;
  ranBy: string;
  igny8Version: string;
}

class DryRunRollback extends Error {
  constructor(readonly result: BillingRunResult) {
    super('dry run');
  }
}

const count = (rows: unknown): number => Number((rows as Array<{ n: number | string }>)[0]?.n ?? 0);

/** Step 1: scheduled plan changes and cancellations at period end. */
async function endPeriods(trx: Knex.Transaction, asOf: Date): Promise<Pick<BillingCounts, 'planChanges' | 'cancellations'>> {
  const changed = await trx.raw(
    `with due as (
       select s.id, s.account_id, s.scheduled_plan_id, np.price > 0 as paid
         from igny8_subscriptions s join igny8_plans np on np.id = s.scheduled_plan_id
        where s.scheduled_plan_id is not null and s.status in ('active', 'past_due') and s.current_period_end <= ?::timestamptz
        order by s.id
          for update of s),
     subscriptions as (
       update igny8_subscriptions s
          set plan_id = d.scheduled_plan_id, scheduled_plan_id = null, cancel_at_period_end = false,
              status = case when d.paid then s.status else 'canceled' end, updated_at = now()
         from due d where s.id = d.id
       returning s.id),
     accounts as (
       update igny8_accounts a set plan_id = d.scheduled_plan_id, updated_at = now()
         from due d where a.id = d.account_id
       returning a.id)
     select (select count(*) from subscriptions) + 0 * (select count(*) from accounts) as n`,
    [asOf],
  );
  const cancelled = await trx.raw(
    `with due as (
       select s.id, s.account_id from igny8_subscriptions s
        where s.cancel_at_period_end and s.scheduled_plan_id is null
          and s.status in ('active', 'past_due') and s.current_period_end <= ?::timestamptz
        order by s.id
          for update of s),
     subscriptions as (
       update igny8_subscriptions s set status = 'canceled', updated_at = now() from due d where s.id = d.id returning s.id),
     accounts as (
       update igny8_accounts a set status = 'cancelled', updated_at = now()
         from due d where a.id = d.account_id and a.status <> 'cancelled'
       returning a.id)
     select (select count(*) from subscriptions) + 0 * (select count(*) from accounts) as n`,
    [asOf],
  );
  return { planChanges: count(changed.rows), cancellations: count(cancelled.rows) };
}

/** A timestamptz as ISO 8601 text in UTC, whatever the session's time zone: renewals are keyed by it. */
function utcText(expr: string): string {
  return `to_char((${expr}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Step 2, one round: every subscription whose period ended moves one period on. */
async function renewOnce(trx: Knex.Transaction, asOf: Date): Promise<{ renewals: number; invoices: number }> {
  const snapshot = billingSnapshotSql(TARGET_NAMES, 'd.account_id');
  const done = await trx.raw(
    `with due as (
       select s.id, s.account_id, s.current_period_end as period_start,
              s.current_period_end + ${billingIntervalSql('p')} as period_end,
              ${utcText('s.current_period_end')} as period_start_text,
              ${utcText(`s.current_period_end + ${billingIntervalSql('p')}`)} as period_end_text,
              p.slug, p.name, p.price, p.billing_cycle
         from igny8_subscriptions s join igny8_plans p on p.id = s.plan_id
        where s.status in ('active', 'past_due') and not s.cancel_at_period_end and s.current_period_end <= ?::timestamptz
        order by s.id
          for update of s),
     moved as (
       update igny8_subscriptions s set current_period_start = d.period_start, current_period_end = d.period_end, updated_at = now()
         from due d where s.id = d.id
       returning s.id),
     billed as (
       insert into igny8_invoices (account_id, subscription_id, invoice_number, status, subtotal, tax, total, currency,
                                   invoice_date, due_date, line_items, metadata, billing_snapshot)
       select d.account_id, d.id, 'INV-' || lpad(nextval('${INVOICE_NUMBER_SEQUENCE}')::text, 8, '0'), 'pending',
              d.price, 0, d.price, 'USD',
              (d.period_start at time zone 'UTC')::date, (d.period_start at time zone 'UTC')::date + ${INVOICE_DUE_DAYS},
              jsonb_build_array(jsonb_build_object(
                'description', d.name || ' plan, ' || d.billing_cycle, 'plan', d.slug, 'quantity', 1,
                'unit_price', d.price::text, 'amount', d.price::text,
                'period_start', d.period_start_text, 'period_end', d.period_end_text)),
              jsonb_build_object('source', 'renewal', 'plan', d.slug, 'period_start', d.period_start_text, 'period_end', d.period_end_text),
              ${snapshot}
         from due d where d.price > 0
       returning id)
     select (select count(*) from moved) as n, (select count(*) from billed) as invoices`,
    [asOf],
  );
  const [row] = done.rows as Array<{ n: number | string; invoices: number | string }>;
  return { renewals: Number(row.n), invoices: Number(row.invoices) };
}

/**
 * The free plan's periods, as SQL over account alias `a` at the instant bound first: the
 * number of whole months since signup (`k`) and the start of the current period. Period 0
 * is the signup's, credited by registration.
 */
function freePeriodSql(): string {
  return `(select k, ((a.created_at at time zone 'UTC') + make_interval(months => k)) at time zone 'UTC' as period_start
             from (select (extract(year from g) * 12 + extract(month from g))::int as k
                     from (select age(?::timestamptz at time zone 'UTC', a.created_at at time zone 'UTC') as g) age) months)`;
}

/** Step 3: the monthly top-up of active free accounts, one keyed ledger row per period. */
async function creditFreePeriods(trx: Knex.Transaction, asOf: Date): Promise<{ rows: number; credits: number }> {
  return topUpCreditsInBulk(
    trx,
    `select a.id as account_id, p.included_credits as target, 'monthly credits: ' || p.name as reason,
            jsonb_build_object('plan', p.slug, 'period_start', f.period_start) as metadata,
            '${FREE_PERIOD_KEY_PREFIX}' || to_char(f.period_start at time zone 'UTC', 'YYYY-MM-DD') as idempotency_key
       from igny8_accounts a
       join igny8_plans p on p.id = a.plan_id
      cross join lateral ${freePeriodSql()} f
      where p.price = 0 and a.status = 'active' and a.created_at <= ?::timestamptz and f.k >= 1`,
    [asOf, asOf],
  );
}

/** Step 4: invoices past due become overdue; their active subscriptions past_due. */
async function markOverdue(trx: Knex.Transaction, asOf: Date): Promise<{ invoices: number; subscriptions: number }> {
  const invoices = await trx.raw(
    `with overdue as (
       update igny8_invoices set status = 'overdue'
        where status = 'pending' and due_date < (?::timestamptz at time zone 'UTC')::date
       returning id)
     select count(*) as n from overdue`,
    [asOf],
  );
  const subscriptions = await trx.raw(
    `with late as (
       update igny8_subscriptions s set status = 'past_due', updated_at = now()
        where s.status = 'active'
          and s.id in (select i.subscription_id from igny8_invoices i where i.status = 'overdue' and i.subscription_id is not null)
       returning s.id)
     select count(*) as n from late`,
  );
  return { invoices: count(invoices.rows), subscriptions: count(subscriptions.rows) };
}

/** Step 5: accounts with an invoice overdue for longer than the grace period are suspended. */
async function suspendLate(trx: Knex.Transaction, asOf: Date, graceDays: number): Promise<number> {
  const suspended = await trx.raw(
    `with late as (
       update igny8_accounts a set status = 'suspended', updated_at = now()
        where a.status = 'active'
          and a.id in (select i.account_id from igny8_invoices i
                        where i.status = 'overdue' and i.due_date + ?::int < (?::timestamptz at time zone 'UTC')::date)
       returning a.id)
     select count(*) as n from late`,
    [graceDays, asOf],
  );
  return count(suspended.rows);
}

/** The advisory lock that makes billing runs take turns. */
const BILLING_LOCK = `select pg_advisory_xact_lock(hashtext('igny8.billing-run'))`;

export async function runBilling(knex: Knex, input: BillingRunInput): Promise<BillingRunResult> {
  await requireTargetSchema(knex);
  if (!Number.isSafeInteger(input.graceDays) || input.graceDays < 0 || input.graceDays > 365) {
    throw new ValidationError('graceDays', 'must be a whole number of days from 0 to 365');
  }
  const asOf = input.asOf ?? new Date();
  const operator = currentOperator(input.reason);
  const runId = randomUUID();
  try {
    return await withTransaction(knex, async (trx) => {
      const stepMs: Record<string, number> = {};
      const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
        const started = performance.now();
        try {
          return await work();
        } finally {
          stepMs[step] = Math.round(performance.now() - started);
        }
      };
      await timed('lock', () => trx.raw(BILLING_LOCK));
      await setStatusReason(trx, `billing run ${runId}`);
      const ended = await timed('periodEnds', () => endPeriods(trx, asOf));
      let renewals = 0;
      let renewalInvoices = 0;
      await timed('renewals', async () => {
        for (let round = 1; ; round++) {
          const renewed = await renewOnce(trx, asOf);
          renewals += renewed.renewals;
          renewalInvoices += renewed.invoices;
          if (renewed.renewals === 0) break;
          if (round >= MAX_RENEWAL_ROUNDS) throw new Error(`billing run: periods still ending after ${round} rounds`);
        }
      });
      const credits = await timed('monthlyCredits', () => creditFreePeriods(trx, asOf));
      const overdue = await timed('overdue', () => markOverdue(trx, asOf));
      const suspendedAccounts = await timed('suspensions', () => suspendLate(trx, asOf, input.graceDays));
      const counts: BillingCounts = {
        ...ended,
        renewals,
        renewalInvoices,
        monthlyCredits: credits.rows,
        creditsGranted: credits.credits,
        overdueInvoices: overdue.invoices,
        pastDueSubscriptions: overdue.subscriptions,
        suspendedAccounts,
      };
      const result: BillingRunResult = {
        runId: input.dryRun ? null : runId,
        asOf,
        graceDays: input.graceDays,
        dryRun: input.dryRun === true,
        counts,
        stepMs,
        ranBy: operator.ranBy,
        igny8Version: operator.igny8Version,
      };
      if (input.dryRun) throw new DryRunRollback(result);
      await trx(BILLING_RUNS_TABLE).insert({
        id: runId,
        as_of: asOf,
        grace_days: input.graceDays,
        ran_by: operator.ranBy,
        reason: operator.reason,
        igny8_version: operator.igny8Version,
        counts: JSON.stringify(counts),
        started_at: trx.fn.now(),
      });
      return result;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.result;
    throw error;
  }
}

export interface BillingRunRecord {
  id: string;
  asOf: Date;
  graceDays: number;
  ranBy: string;
  reason: string | null;
  igny8Version: string;
  counts: BillingCounts;
  startedAt: Date;
}

/** The last billing runs, newest first. */
export async function billingHistory(knex: Knex, limit = 20): Promise<BillingRunRecord[]> {
  await requireTargetSchema(knex);
  const rows = (await knex(BILLING_RUNS_TABLE).orderBy('started_at', 'desc').limit(limit).select('*')) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    id: row.id as string,
    asOf: row.as_of as Date,
    graceDays: row.grace_days as number,
    ranBy: row.ran_by as string,
    reason: row.reason as string | null,
    igny8Version: row.igny8_version as string,
    counts: (typeof row.counts === 'string' ? JSON.parse(row.counts) : row.counts) as BillingCounts,
    startedAt: row.started_at as Date,
  }));
}
