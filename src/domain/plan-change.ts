// Changing an account's plan (`igny8 change-plan`), as Stripe does by default:
// - an upgrade (a higher price; at the same price, more credits) takes effect now, with an
//   invoice for the price difference prorated over what is left of the period; its credit
//   difference is granted when that invoice is paid (keyed by its number);
// - a downgrade takes effect at the end of the period (the billing run applies it), or now
//   with --at now (no refund for the rest of the period: igny8 issues no credit notes);
// - either is refused while the account has more sites, users or sectors on a site than the
//   new plan allows, listing what must go first (the limits of src/domain/limits.ts);
// - free → paid follows a paid signup: a subscription for one cycle from now, its invoice, a
//   default payment method when there is none, and the account pending_payment until it is
//   paid; paid → free ends the subscription (at period end by default).
// Changing to the current plan while a change is scheduled cancels the scheduled change.
// The account row is locked first, so two operators changing one plan take turns and the
// second sees the first's result.
import type { Knex } from 'knex';
import { DomainRefusal, ValidationError } from '../errors.js';
import { withTransaction } from '../db/transaction.js';
import { assertAccountCanGrow } from './account-gate.js';
import { setStatusReason } from './account-status.js';
import type { ChangePlanInput } from './inputs.js';
import { createInvoice, type InvoiceSummary } from './invoices.js';
import { effectiveSectorLimit, exceedsLimit, siteLimit, userLimit } from './limits.js';
import { PRORATION_SOURCE } from './payments.js';
import { createDefaultPaymentMethod, PAYMENT_METHODS_TABLE } from './payment-methods.js';
import { billingInterval } from './billing-cycle.js';
import { assertPlanMatchesCatalog, findPlan, isPaidPlan, type PlanRow } from './register.js';
import { requireTargetSchema } from './target-schema.js';
import { plural } from '../render/text.js';

/** metadata.source of the first invoice of a free account moving to a paid plan. */
export const PLAN_CHANGE_SOURCE = 'plan-change';

export interface PlanSummary {
  slug: string;
  name: string;
  price: string;
  includedCredits: number;
}

export interface PlanChangeResult {
  account: { id: number; slug: string; status: string; previousStatus: string };
  from: PlanSummary;
  to: PlanSummary;
  kind: 'upgrade' | 'downgrade' | 'cancel-scheduled';
  /** now: the account is on the new plan; period-end: the billing run moves it at `effectiveAt`. */
  at: 'now' | 'period-end';
  effectiveAt: Date;
  subscription: { id: number; status: string; plan: string; scheduledPlan: string | null; currentPeriodEnd: Date } | null;
  invoice?: InvoiceSummary;
  /** The share of the period left, for a prorated invoice (0..1). */
  prorationFactor?: number;
  dryRun: boolean;
}

class DryRunRollback extends Error {
  constructor(readonly result: PlanChangeResult) {
    super('dry run');
  }
}

interface LockedAccount {
  id: number;
  slug: string;
  status: string;
  plan_id: number;
}

interface SubscriptionRow {
  id: number;
  status: string;
  plan_id: number;
  scheduled_plan_id: number | null;
  current_period_start: Date;
  current_period_end: Date;
  /** The share of the period still ahead, by the database's clock. */
  left: number;
  now: Date;
}

function summary(plan: PlanRow): PlanSummary {
  return { slug: plan.slug, name: plan.name, price: plan.price, includedCredits: plan.included_credits };
}

/** An upgrade costs more; at the same price, it brings more credits. */
export function isUpgrade(from: PlanRow, to: PlanRow): boolean {
  const difference = Number(to.price) - Number(from.price);
  return difference > 0 || (difference === 0 && to.included_credits > from.included_credits);
}

/**
 * What the account has beyond `plan`'s limits, one line each ("sites: 3, plan "starter"
 * allows 1: remove 2 of them (a, b, c)"); empty when it fits.
 */
export async function overLimits(trx: Knex.Transaction, accountId: number, plan: PlanRow): Promise<string[]> {
  const problems: string[] = [];
  const sites = (await trx('igny8_sites').where('account_id', accountId).orderBy('id').select('id', 'slug')) as Array<{ id: number; slug: string }>;
  const maxSites = siteLimit(plan.max_sites);
  if (exceedsLimit(sites.length, maxSites)) {
    problems.push(
      `sites: ${sites.length}, plan "${plan.slug}" allows ${maxSites}: remove ${sites.length - maxSites!} of them (${sites.map((s) => s.slug).join(', ')})`,
    );
  }
  const users = (await trx('igny8_users').where('account_id', accountId).orderBy('id').select('email', 'role')) as Array<{ email: string; role: string }>;
  const maxUsers = userLimit(plan.max_users);
  if (exceedsLimit(users.length, maxUsers)) {
    const others = users.filter((user) => user.role !== 'owner').map((user) => user.email);
    problems.push(`users: ${users.length}, plan "${plan.slug}" allows ${maxUsers}: remove ${users.length - maxUsers!} of them (${others.join(', ')})`);
  }
  const maxSectors = effectiveSectorLimit(plan.max_sectors_per_site);
  const sectors = (await trx('igny8_sectors')
    .where('account_id', accountId)
    .groupBy('site_id')
    .select('site_id', trx.raw('count(*)::int as count'))) as Array<{ site_id: number; count: number }>;
  for (const row of sectors) {
    if (!exceedsLimit(row.count, maxSectors)) continue;
    const site = sites.find((s) => s.id === row.site_id)?.slug ?? String(row.site_id);
    problems.push(
      `site "${site}": ${plural(row.count, 'sector')}, plan "${plan.slug}" allows ${maxSectors} per site: remove ${row.count - maxSectors!}`,
    );
  }
  return problems;
}

async function lockSubscription(trx: Knex.Transaction, accountId: number): Promise<SubscriptionRow | undefined> {
  const [row] = (await trx('igny8_subscriptions')
    .where('account_id', accountId)
    .forUpdate()
    .select(
      '*',
      trx.raw(`greatest(0, least(1, extract(epoch from (current_period_end - now()))
                 / nullif(extract(epoch from (current_period_end - current_period_start)), 0)))::float8 as "left"`),
      trx.raw('now() as now'),
    )) as SubscriptionRow[];
  return row;
}

async function planById(trx: Knex.Transaction, id: number): Promise<PlanRow> {
  const [plan] = (await trx('igny8_plans').where('id', id).select('*')) as PlanRow[];
  return plan;
}

async function setPlans(trx: Knex.Transaction, accountId: number, subscriptionId: number | undefined, plan: PlanRow, status?: string) {
  await trx('igny8_accounts')
    .where('id', accountId)
    .update({ plan_id: plan.id, updated_at: trx.fn.now(), ...(status ? { status } : {}) });
  if (subscriptionId !== undefined) {
    await trx('igny8_subscriptions')
      .where('id', subscriptionId)
      .update({ plan_id: plan.id, scheduled_plan_id: null, cancel_at_period_end: false, updated_at: trx.fn.now() });
  }
}

/** Moves an account to another plan, or schedules the move (see the top of this file). */
export async function changePlan(knex: Knex, input: ChangePlanInput): Promise<PlanChangeResult> {
  await requireTargetSchema(knex);
  try {
    return await withTransaction(knex, async (trx) => {
      const [account] = (await trx('igny8_accounts').where('slug', input.account).forUpdate().select('id', 'slug', 'status', 'plan_id')) as LockedAccount[];
      if (!account) throw new ValidationError('account', `no account with slug "${input.account}"`);
      const from = await planById(trx, account.plan_id);
      const to = await findPlan(trx, input.plan);
      await setStatusReason(trx, `change-plan ${from.slug} → ${to.slug}`);
      const subscription = await lockSubscription(trx, account.id);
      const live = subscription && ['active', 'past_due', 'pending_payment'].includes(subscription.status) ? subscription : undefined;
      const result = (partial: Partial<PlanChangeResult> & Pick<PlanChangeResult, 'kind' | 'at' | 'effectiveAt'>): PlanChangeResult => ({
        account: { id: account.id, slug: account.slug, status: account.status, previousStatus: account.status },
        from: summary(from),
        to: summary(to),
        subscription: null,
        dryRun: input.dryRun === true,
        ...partial,
      });
      const finish = async (outcome: PlanChangeResult): Promise<PlanChangeResult> => {
        const [after] = (await trx('igny8_accounts').where('id', account.id).select('status')) as Array<{ status: string }>;
        outcome.account.status = after.status;
        const [s] = (await trx('igny8_subscriptions as s')
          .join('igny8_plans as p', 'p.id', 's.plan_id')
          .leftJoin('igny8_plans as n', 'n.id', 's.scheduled_plan_id')
          .where('s.account_id', account.id)
          .select('s.id', 's.status', 'p.slug as plan', 'n.slug as scheduled', 's.current_period_end')) as Array<{
          id: number;
          status: string;
          plan: string;
          scheduled: string | null;
          current_period_end: Date;
        }>;
        outcome.subscription = s
          ? { id: s.id, status: s.status, plan: s.plan, scheduledPlan: s.scheduled, currentPeriodEnd: s.current_period_end }
          : null;
        if (input.dryRun) throw new DryRunRollback(outcome);
        return outcome;
      };

      if (to.id === from.id) {
        if (live?.scheduled_plan_id) {
          await trx('igny8_subscriptions').where('id', live.id).update({ scheduled_plan_id: null, updated_at: trx.fn.now() });
          return finish(result({ kind: 'cancel-scheduled', at: 'now', effectiveAt: live.now }));
        }
        throw new DomainRefusal(`account "${account.slug}" is on plan "${to.slug}" already`, { code: 'same-plan' });
      }
      await assertAccountCanGrow(trx, account, 'plan changes');
      await assertPlanMatchesCatalog(trx, to.slug);
      const over = await overLimits(trx, account.id, to);
      if (over.length > 0) {
        throw new DomainRefusal(`account "${account.slug}" does not fit plan "${to.slug}": ${over.length === 1 ? 'this' : 'these'} must go first`, {
          code: 'plan-limits',
          details: over,
        });
      }
      const upgrade = isUpgrade(from, to);
      const kind = upgrade ? 'upgrade' : 'downgrade';

      // Free → paid: as a paid signup.
      if (!live || !isPaidPlan(from)) {
        if (!isPaidPlan(to)) {
          await setPlans(trx, account.id, undefined, to);
          return finish(result({ kind, at: 'now', effectiveAt: new Date() }));
        }
        if (input.at === 'period-end') {
          throw new ValidationError('at', 'a free plan has no paid period to end: the change to a paid plan takes effect now');
        }
        const interval = billingInterval(to.billing_cycle);
        const values = {
          plan_id: to.id,
          status: 'pending_payment',
          current_period_start: trx.fn.now(),
          current_period_end: trx.raw(`now() + ?::interval`, [interval]),
          cancel_at_period_end: false,
          scheduled_plan_id: null,
          updated_at: trx.fn.now(),
        };
        const [created] = (subscription
          ? await trx('igny8_subscriptions').where('id', subscription.id).update(values).returning(['id', 'current_period_start', 'current_period_end'])
          : await trx('igny8_subscriptions')
              .insert({ account_id: account.id, ...values })
              .returning(['id', 'current_period_start', 'current_period_end'])) as Array<{ id: number; current_period_start: Date; current_period_end: Date }>;
        await setPlans(trx, account.id, undefined, to, 'pending_payment');
        const invoice = await createInvoice(trx, {
          accountId: account.id,
          subscriptionId: created.id,
          plan: to,
          periodStart: created.current_period_start,
          periodEnd: created.current_period_end,
          source: PLAN_CHANGE_SOURCE,
          metadata: { from_plan: from.slug },
        });
        const [method] = (await trx(PAYMENT_METHODS_TABLE).where({ account_id: account.id, is_default: true }).select('id')) as unknown[];
        if (!method) await createDefaultPaymentMethod(trx, account.id, 'stripe');
        return finish(result({ kind, at: 'now', effectiveAt: new Date(created.current_period_start), invoice }));
      }

      const at = input.at ?? (upgrade ? 'now' : 'period-end');
      if (at === 'period-end') {
        await trx('igny8_subscriptions').where('id', live.id).update({ scheduled_plan_id: to.id, updated_at: trx.fn.now() });
        return finish(result({ kind, at, effectiveAt: live.current_period_end }));
      }

      // Now. Paid → free ends the subscription; a downgrade is not refunded.
      if (!isPaidPlan(to)) {
        await setPlans(trx, account.id, live.id, to);
        await trx('igny8_subscriptions').where('id', live.id).update({ status: 'canceled' });
        return finish(result({ kind, at, effectiveAt: live.now }));
      }
      await setPlans(trx, account.id, live.id, to);
      if (!upgrade) return finish(result({ kind, at, effectiveAt: live.now }));
      const factor = Number(live.left);
      const amount = Math.round((Number(to.price) - Number(from.price)) * factor * 100) / 100;
      if (amount <= 0) return finish(result({ kind, at, effectiveAt: live.now, prorationFactor: factor }));
      const invoice = await createInvoice(trx, {
        accountId: account.id,
        subscriptionId: live.id,
        plan: to,
        amount: amount.toFixed(2),
        periodStart: live.now,
        periodEnd: live.current_period_end,
        source: PRORATION_SOURCE,
        lineDescription: `Upgrade from ${from.name} to ${to.name}, prorated for ${(factor * 100).toFixed(1)}% of the period`,
        metadata: {
          from_plan: from.slug,
          proration: Number(factor.toFixed(6)),
          credit_difference: Math.max(0, to.included_credits - from.included_credits),
        },
      });
      return finish(result({ kind, at, effectiveAt: live.now, invoice, prorationFactor: factor }));
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.result;
    throw error;
  }
}
