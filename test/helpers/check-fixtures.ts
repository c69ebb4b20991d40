// Small hand-made accounts in whichever shape the database is in (legacy or target), clean
// by every check, so a test can plant exactly one defect and expect exactly its rows.
// Tests run inside a transaction that is rolled back, so each sees only its own rows.
import type { Knex } from 'knex';
import type { Sample } from '../../src/rules/finding.js';
import { judgeRule } from '../../src/rules/judge.js';
import { findRule } from '../../src/rules/registry.js';
import { readShape } from '../../src/rules/shape.js';

export type CheckOutcome =
  | { kind: 'ran'; count: number; suppressed: number; samples: Sample[] }
  | { kind: 'enforced'; by: string }
  | { kind: 'not-applicable'; reason: string };
import { inspectSchema } from '../../src/schema/inspect.js';

export type Plan = 'free' | 'starter' | 'growth' | 'scale';
const CREDITS: Record<Plan, number> = { free: 1000, starter: 1000, growth: 2000, scale: 4000 };

class Rollback extends Error {}

/** Runs `work` in a transaction that is always rolled back. */
export async function inRollback<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await knex.transaction(async (trx) => {
      result = await work(trx);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return result as T;
}

/** The credential key the checks are given (credentials-undecryptable judges with it). */
export const TEST_CREDENTIAL_KEY = Buffer.alloc(32, 0x5e);

/** Runs one check on the transaction's data. */
export async function check(
  trx: Knex.Transaction,
  id: string,
  options: { accountId?: number; sample?: number; suppressedKeys?: string[] } = {},
): Promise<CheckOutcome> {
  const rule = findRule(id)!;
  const shape = await readShape(trx, options.accountId, TEST_CREDENTIAL_KEY);
  const verdict = rule.verdict(shape);
  if (verdict) return verdict;
  const found = await judgeRule(trx, rule, shape, { sample: options.sample ?? 100, suppressedKeys: options.suppressedKeys });
  return { kind: 'ran', ...found };
}

/** The sample keys of a check that ran (sorted), or the outcome kind when it did not run. */
export async function keys(trx: Knex.Transaction, id: string, accountId?: number): Promise<string[] | string> {
  const outcome = await check(trx, id, { accountId });
  if (outcome.kind !== 'ran') return outcome.kind;
  expectConsistent(outcome);
  return outcome.samples.map((sample) => sample.key).sort();
}

function expectConsistent(outcome: Extract<CheckOutcome, { kind: 'ran' }>): void {
  if (outcome.samples.length !== Math.min(outcome.count, 100)) {
    throw new Error(`count ${outcome.count} but ${outcome.samples.length} samples`);
  }
}

export interface Fixture {
  id: number;
  slug: string;
  ownerId: number;
  memberIds: number[];
  siteIds: number[];
  sectorIds: number[];
  subscriptionId?: number;
  invoiceId?: number;
  paymentMethodId?: number;
  ledgerIds: number[];
}

export interface Shape {
  accounts: string;
  legacy: boolean;
  of(table: string): string;
}

export async function shapeOf(trx: Knex.Transaction): Promise<Shape> {
  const schema = await inspectSchema(trx);
  return {
    accounts: schema.accountsTable,
    legacy: schema.hasColumn(schema.accountsTable, 'owner_id'),
    of: (table) => schema.accountColumn(table),
  };
}

async function insert(trx: Knex.Transaction, table: string, row: Record<string, unknown>): Promise<number> {
  const [created] = await trx(table).insert(row).returning('id');
  return Number((created as { id: number }).id);
}

let counter = 0;

/** A clean account: owner (+ members), sites with one sector and owner access, a ledger. */
export async function makeAccount(
  trx: Knex.Transaction,
  options: { plan?: Plan; members?: number; sites?: number; status?: string; grant?: number } = {},
): Promise<Fixture> {
  const shape = await shapeOf(trx);
  const plan = options.plan ?? 'free';
  const paid = plan !== 'free';
  const slug = `acct-${process.pid}-${++counter}`;
  const planId = Number((await trx('igny8_plans').where({ slug: plan }).first('id')).id);
  const credits = options.grant ?? CREDITS[plan];
  const id = await insert(trx, shape.accounts, {
    name: `Account ${slug}`,
    slug,
    plan_id: planId,
    credits,
    status: options.status ?? (paid ? 'active' : 'active'),
    billing_email: `${slug}@billing.test`,
    ...(shape.legacy ? { payment_method: 'stripe' } : {}),
  });
  const user = (email: string, role: string) =>
    insert(trx, 'igny8_users', {
      email,
      password: 'pbkdf2_sha256$600000$salt$hash',
      role,
      [shape.of('igny8_users')]: id,
    });
  const ownerId = await user(`${slug}-owner@mail.test`, 'owner');
  if (shape.legacy) await trx(shape.accounts).where({ id }).update({ owner_id: ownerId });
  const memberIds: number[] = [];
  for (let index = 0; index < (options.members ?? 0); index++) memberIds.push(await user(`${slug}-m${index}@mail.test`, 'admin'));
  const ledgerIds = [
    await insert(trx, 'igny8_credit_transactions', {
      [shape.of('igny8_credit_transactions')]: id,
      transaction_type: 'subscription',
      amount: credits,
      balance_after: credits,
      description: 'signup credits',
    }),
  ];
  const industry = await trx('igny8_industries').where({ slug: 'technology' }).first('id');
  const sector = await trx('igny8_industry_sectors').where({ industry_id: industry.id, slug: 'web-development' }).first('id');
  const siteIds: number[] = [];
  const sectorIds: number[] = [];
  for (let index = 0; index < (options.sites ?? 1); index++) {
    const siteId = await insert(trx, 'igny8_sites', {
      [shape.of('igny8_sites')]: id,
      name: `Site ${index}`,
      slug: `site-${index}`,
      industry_id: industry.id,
    });
    siteIds.push(siteId);
    sectorIds.push(
      await insert(trx, 'igny8_sectors', {
        [shape.of('igny8_sectors')]: id,
        site_id: siteId,
        industry_sector_id: sector.id,
        name: 'Web',
        slug: 'web',
      }),
    );
    await insert(trx, 'igny8_site_user_access', {
      user_id: ownerId,
      site_id: siteId,
      granted_by_id: ownerId,
      ...(shape.legacy ? {} : { account_id: id }),
    });
  }
  const fixture: Fixture = { id, slug, ownerId, memberIds, siteIds, sectorIds, ledgerIds };
  if (paid) {
    const now = new Date();
    fixture.subscriptionId = await insert(trx, 'igny8_subscriptions', {
      [shape.of('igny8_subscriptions')]: id,
      status: 'active',
      current_period_start: now,
      current_period_end: new Date(now.getTime() + 30 * 86400_000),
      ...(shape.legacy ? { payment_method: 'stripe' } : { plan_id: planId }),
    });
    fixture.paymentMethodId = await insert(trx, 'igny8_account_payment_methods', {
      [shape.of('igny8_account_payment_methods')]: id,
      type: 'stripe',
      is_default: true,
    });
    fixture.invoiceId = await insert(trx, 'igny8_invoices', {
      [shape.of('igny8_invoices')]: id,
      subscription_id: fixture.subscriptionId,
      invoice_number: `T-${slug}`,
      status: 'pending',
      invoice_date: '2026-01-01',
      due_date: '2026-01-15',
      ...(shape.legacy
        ? { billing_email: `${slug}@billing.test` }
        : { billing_snapshot: JSON.stringify({ email: `${slug}@billing.test`, name: slug }) }),
    });
  }
  return fixture;
}
