// The domain operations write the target schema only (docs/schema.md). On a database that
// is not migrated yet they refuse with the way forward, instead of failing half-way with a
// missing-column error.
import type { Knex } from 'knex';
import { DomainRefusal } from '../errors.js';
import { inspectSchema } from '../schema/inspect.js';

const REQUIRED: ReadonlyArray<readonly [string, string]> = [
  ['igny8_accounts', 'credits'],
  ['igny8_users', 'account_id'],
  ['igny8_plans', 'max_sectors_per_site'],
  ['igny8_subscriptions', 'plan_id'],
  ['igny8_invoices', 'billing_snapshot'],
  ['igny8_credit_transactions', 'idempotency_key'],
  ['igny8_sites', 'account_id'],
  ['igny8_sectors', 'account_id'],
  ['igny8_site_user_access', 'account_id'],
  ['igny8_account_payment_methods', 'account_id'],
];

/** Refuses (exit 3) unless the database has the target schema's tables and columns. */
export async function requireTargetSchema(knex: Knex | Knex.Transaction): Promise<void> {
  const schema = await inspectSchema(knex);
  const missing = REQUIRED.filter(([table, column]) => !schema.hasColumn(table, column)).map(
    ([table, column]) => `${table}.${column}`,
  );
  if (missing.length === 0) return;
  throw new DomainRefusal(
    schema.isIgny8Database
      ? 'the database is not migrated to the current schema: run `igny8 migrate` first'
      : 'the database has no igny8 schema: run `igny8 migrate` and `igny8 catalog sync` first',
    { details: [`missing: ${missing.join(', ')}`], code: 'schema-not-migrated' },
  );
}
