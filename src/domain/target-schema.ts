// The domain operations write the target schema only (docs/schema.md). On a database that
// is not migrated yet they refuse with the way forward, instead of failing half-way with a
// missing-column error. The probe is one catalog lookup, remembered per handle once it
// passes (a schema only moves forward while igny8 runs).
import type { Knex } from 'knex';
import { DomainRefusal } from '../errors.js';

const REQUIRED: ReadonlyArray<readonly [string, string]> = [
  ['igny8_accounts', 'credits'],
  ['igny8_users', 'account_id'],
  ['igny8_users', 'deactivated_at'],
  ['igny8_plans', 'max_sectors_per_site'],
  ['igny8_subscriptions', 'plan_id'],
  ['igny8_invoices', 'billing_snapshot'],
  ['igny8_credit_transactions', 'idempotency_key'],
  ['igny8_sites', 'account_id'],
  ['igny8_sectors', 'account_id'],
  ['igny8_site_user_access', 'account_id'],
  ['igny8_account_payment_methods', 'account_id'],
];

const verified = new WeakSet<object>();

/** Refuses (exit 3) unless the database has the target schema's tables and columns. */
export async function requireTargetSchema(knex: Knex | Knex.Transaction): Promise<void> {
  if (verified.has(knex.client as object)) return;
  const values = REQUIRED.map(() => '(?, ?)').join(', ');
  const result = await knex.raw(
    `select v.tbl || '.' || v.col as missing, to_regclass('igny8_plans') is not null as igny8
       from (values ${values}) as v(tbl, col)
      where not exists (select 1 from pg_attribute a
                         where a.attrelid = to_regclass(v.tbl) and a.attname = v.col and not a.attisdropped)`,
    REQUIRED.flat(),
  );
  const rows = result.rows as Array<{ missing: string; igny8: boolean }>;
  if (rows.length === 0) {
    verified.add(knex.client as object);
    return;
  }
  throw new DomainRefusal(
    rows[0].igny8
      ? 'the database is not migrated to the current schema: run `igny8 migrate` first'
      : 'the database has no igny8 schema: run `igny8 migrate` and `igny8 catalog sync` first',
    { details: [`missing: ${rows.map((row) => row.missing).join(', ')}`], code: 'schema-not-migrated' },
  );
}
