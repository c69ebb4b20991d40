// Registration (SPEC "Registration outcomes", seed tests 1 and 2). One transaction creates
// everything or nothing:
// - free plan: the account (active), its owner, the plan's credits through the credit
//   service (one ledger row);
// - paid plan: the account (pending_payment), its owner, a subscription with its plan and a
//   period (seed #1, #2), a pending invoice with a unique number, a line item and a billing
//   snapshot (seed #6), and the account's default payment method (seed #8).
// seed #3: account and owner are created together; there is no owner_id to point back.
// The password is hashed before the transaction opens: scrypt at the OWASP cost takes a tenth
// of a second and 128 MiB, and no lock or connection should wait on it.
import type { Knex } from 'knex';
import { DomainRefusal, sqlState, SqlState, ValidationError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { withTransaction } from '../db/transaction.js';
import { comparePlansWithCatalog, showValue } from '../rules/plan-catalog.js';
import { loadCatalog } from './catalog.js';
import { grantCredits, type LedgerEntry } from './credits.js';
import type { RegisterInput } from './inputs.js';
import { billingInterval } from './billing-cycle.js';
import { createInvoice, type InvoiceSummary } from './invoices.js';
import { allowsAnother, userLimit } from './limits.js';
import { hashPassword, OWASP_SCRYPT_COST, type ScryptCost } from './passwords.js';
import { createDefaultPaymentMethod, type PaymentMethodSummary } from './payment-methods.js';
import { insertWithUniqueSlug } from './slugs.js';
import { requireTargetSchema } from './target-schema.js';

export interface RegisterOptions {
  /** Only for tests of behaviour other than passwords; the CLI always uses the OWASP cost. */
  scryptCost?: ScryptCost;
}

export interface PlanRow {
  id: number;
  slug: string;
  name: string;
  price: string;
  billing_cycle: string;
  included_credits: number;
  max_sites: number;
  max_users: number;
  max_sectors_per_site: number;
  is_active: boolean;
}

export interface Registration {
  account: { id: number; slug: string; name: string; status: string; credits: number; billingEmail: string };
  user: { id: number; email: string; role: 'owner' };
  plan: { slug: string; name: string; price: string; billingCycle: string; paid: boolean };
  signupCredits?: LedgerEntry;
  subscription?: { id: number; status: string; currentPeriodStart: Date; currentPeriodEnd: Date };
  invoice?: InvoiceSummary;
  paymentMethod?: PaymentMethodSummary;
}

/** The key of the free-plan signup grant: one per account, so it can never be granted twice. */
export const SIGNUP_CREDITS_KEY = 'signup';

/** A paid plan is one with a price above zero. */
export function isPaidPlan(plan: Pick<PlanRow, 'price'>): boolean {
  return Number(plan.price) > 0;
}

export async function findPlan(knex: Knex | Knex.Transaction, slug: string): Promise<PlanRow> {
  const [plan] = (await knex('igny8_plans').where({ slug }).select('*')) as PlanRow[];
  if (!plan) throw new ValidationError('plan', `no plan "${slug}" (run \`igny8 catalog show\` for the plans)`);
  if (!plan.is_active) throw new ValidationError('plan', `plan "${slug}" is not offered any more`);
  return plan;
}

/**
 * seed #5: a plan row that differs from the catalog (free with 100 credits instead of 1,000)
 * would register accounts the audit flags; registration refuses until `catalog sync` ran.
 * The comparison is the plan-catalog-drift rule's. Plans outside the catalog are taken as
 * they are.
 */
export async function assertPlanMatchesCatalog(knex: Knex | Knex.Transaction, slug: string): Promise<void> {
  // Registration runs on the target shape only, where the sector limit has its target name.
  const [drift] = await comparePlansWithCatalog(knex, 'max_sectors_per_site', loadCatalog().plans, [slug]);
  if (!drift) return;
  throw new DomainRefusal(`plan "${slug}" differs from the catalog: run \`igny8 catalog sync\` first`, {
    details: drift.fields.map(({ field, from, to }) => `${field} ${showValue(from)}, catalog ${showValue(to)}`),
    code: 'plan-catalog-drift',
  });
}

/** True when `error` is the unique index on lower(email) refusing a second user of that address. */
export function isEmailTaken(error: unknown): boolean {
  if (sqlState(error) !== SqlState.uniqueViolation) return false;
  const { detail, constraint } = error as { detail?: string; constraint?: string };
  return /email/i.test(constraint ?? '') || /^Key \([^)]*email/i.test(detail ?? '');
}

/**
 * Registers an account and its owner. `input` is parsed already (registerInputSchema): the
 * command line parses its flags, the programmatic API its argument.
 */
export async function registerAccount(knex: Knex, input: RegisterInput, options: RegisterOptions = {}): Promise<Registration> {
  await requireTargetSchema(knex);
  // Fail on an unknown or drifted plan before spending a hash on it; the transaction reads it again.
  await assertPlanMatchesCatalog(knex, (await findPlan(knex, input.plan)).slug);
  registerSecret(input.password);
  const passwordHash = await hashPassword(input.password, options.scryptCost ?? OWASP_SCRYPT_COST);
  registerSecret(passwordHash);
  try {
    return await withTransaction(knex, (trx) => createRegistration(trx, input, passwordHash));
  } catch (error) {
    // The unique index on lower(email) decides under concurrency: no check-then-insert.
    if (isEmailTaken(error)) {
      throw new DomainRefusal('email already registered', { cause: error, code: 'email-taken' });
    }
    throw error;
  }
}

async function createRegistration(trx: Knex.Transaction, input: RegisterInput, passwordHash: string): Promise<Registration> {
  const plan = await findPlan(trx, input.plan);
  await assertPlanMatchesCatalog(trx, plan.slug);
  if (!allowsAnother(0, userLimit(plan.max_users))) {
    throw new DomainRefusal(`plan "${plan.slug}" allows no users`, { code: 'user-limit' });
  }
  const paid = isPaidPlan(plan);
  const billingEmail = input.billingEmail ?? input.email;
  const { row: account } = await insertWithUniqueSlug(trx, {
    source: input.accountName,
    fallback: 'account',
    maxLength: 255,
    table: 'igny8_accounts',
    insert: async (t, slug) => {
      const [row] = (await t('igny8_accounts')
        .insert({
          name: input.accountName,
          slug,
          plan_id: plan.id,
          credits: 0,
          status: paid ? 'pending_payment' : 'active',
          billing_email: billingEmail,
          billing_address_line1: input.billingAddress ?? null,
          billing_city: input.billingCity ?? null,
          billing_country: input.billingCountry ?? null,
        })
        .returning(['id', 'slug', 'name', 'status'])) as Array<{ id: number; slug: string; name: string; status: string }>;
      return row;
    },
  });
  const [user] = (await trx('igny8_users')
    .insert({
      email: input.email,
      password: passwordHash,
      first_name: input.firstName ?? '',
      last_name: input.lastName ?? '',
      role: 'owner',
      account_id: account.id,
      is_active: true,
    })
    .returning(['id', 'email'])) as Array<{ id: number; email: string }>;

  const registration: Registration = {
    account: { ...account, credits: 0, billingEmail },
    user: { id: user.id, email: user.email, role: 'owner' },
    plan: { slug: plan.slug, name: plan.name, price: plan.price, billingCycle: plan.billing_cycle, paid },
  };

  if (!paid) {
    if (plan.included_credits > 0) {
      // seed #5, #11: the plan's credits (1,000 on free) through the credit service.
      const grant = await grantCredits(trx, {
        accountId: account.id,
        amount: plan.included_credits,
        type: 'subscription',
        reason: `signup credits: ${plan.name}`,
        metadata: { reason: 'signup', plan: plan.slug },
        idempotencyKey: SIGNUP_CREDITS_KEY,
      });
      registration.signupCredits = grant.entry;
      registration.account.credits = grant.balance;
    }
    if (input.paymentMethod) {
      registration.paymentMethod = await createDefaultPaymentMethod(trx, account.id, input.paymentMethod);
    }
    return registration;
  }

  // seed #1, #2: the one subscription model, with its plan.
  const [subscription] = (await trx('igny8_subscriptions')
    .insert({
      account_id: account.id,
      plan_id: plan.id,
      status: 'pending_payment',
      current_period_start: trx.fn.now(),
      current_period_end: trx.raw(`now() + ?::interval`, [billingInterval(plan.billing_cycle)]),
      cancel_at_period_end: false,
    })
    .returning(['id', 'status', 'current_period_start', 'current_period_end'])) as Array<{
    id: number;
    status: string;
    current_period_start: Date;
    current_period_end: Date;
  }>;
  registration.subscription = {
    id: subscription.id,
    status: subscription.status,
    currentPeriodStart: subscription.current_period_start,
    currentPeriodEnd: subscription.current_period_end,
  };
  registration.invoice = await createInvoice(trx, {
    accountId: account.id,
    subscriptionId: subscription.id,
    plan,
    periodStart: subscription.current_period_start,
    periodEnd: subscription.current_period_end,
    source: 'registration',
  });
  registration.paymentMethod = await createDefaultPaymentMethod(trx, account.id, input.paymentMethod ?? 'stripe');
  return registration;
}
