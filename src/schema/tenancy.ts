// Which tables belong to an account, read from the schema itself rather than from a list kept
// by hand: the accounts table, every table with an account_id column, and every table that
// references one of those. The change journal watches them, the distribution lint judges
// them, and a table a later migration adds is one of them the moment it names an account.
import type { Knex } from 'knex';

/** Shared by every account, replicated whole on a distributed database (docs/scaling.md). */
export const REFERENCE_TABLES: readonly string[] = ['igny8_plans', 'igny8_industries', 'igny8_industry_sectors'];

/**
 * igny8's records about itself: migrations, the repair log, audit history, archived legacy
 * values, the key registry and the change journal. Not tenant data, even where a row names
 * an account.
 */
export const BOOKKEEPING_TABLES: readonly string[] = [
  'igny8_migrations',
  'igny8_migrations_lock',
  'igny8_repair_log',
  'igny8_audit_runs',
  'igny8_audit_findings',
  'igny8_legacy_values',
  'igny8_credential_keys',
  'igny8_account_changes',
];

export const ACCOUNTS_TABLE = 'igny8_accounts';

export interface TenantTable {
  table: string;
  /** The column naming the account (`id` on the accounts table), or null where there is none. */
  accountColumn: 'id' | 'account_id' | null;
}

export interface Tenancy {
  tenant: TenantTable[];
  reference: string[];
}

/** The tenant and reference tables of the current schema (target shape: `igny8_accounts`, `account_id`). */
export async function readTenancy(knex: Knex | Knex.Transaction): Promise<Tenancy> {
  const tables = (
    await knex.raw(
      `select c.relname as name,
              exists (select 1 from pg_attribute a
                       where a.attrelid = c.oid and a.attname = 'account_id' and a.attnum > 0 and not a.attisdropped) as has_account
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
        order by c.relname`,
    )
  ).rows as Array<{ name: string; has_account: boolean }>;
  const references = (
    await knex.raw(
      `select distinct c.conrelid::regclass::text as source, c.confrelid::regclass::text as target
         from pg_constraint c join pg_class r on r.oid = c.conrelid join pg_namespace n on n.oid = r.relnamespace
        where c.contype = 'f' and n.nspname = current_schema()`,
    )
  ).rows as Array<{ source: string; target: string }>;
  const skip = new Set([...BOOKKEEPING_TABLES, ...REFERENCE_TABLES]);
  const tenant = new Set(tables.filter((t) => !skip.has(t.name) && (t.name === ACCOUNTS_TABLE || t.has_account)).map((t) => t.name));
  // A table pointing at tenant rows holds tenant rows too, however indirectly.
  for (let grew = true; grew; ) {
    grew = false;
    for (const { source, target } of references) {
      if (tenant.has(target) && !tenant.has(source) && !skip.has(source)) {
        tenant.add(source);
        grew = true;
      }
    }
  }
  const hasAccount = new Map(tables.map((t) => [t.name, t.has_account]));
  return {
    tenant: [...tenant].sort().map((table) => ({
      table,
      accountColumn: table === ACCOUNTS_TABLE ? 'id' : hasAccount.get(table) ? 'account_id' : null,
    })),
    reference: REFERENCE_TABLES.filter((table) => hasAccount.has(table)),
  };
}
