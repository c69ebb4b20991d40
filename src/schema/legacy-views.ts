// Between expand and contract both applications run against one database. Expand renames
// (igny8_tenants → igny8_accounts, tenant_id → account_id, ...) so the new application and every
// later migration see the target names; the legacy application keeps its names through views
// in a schema of their own, igny8_legacy, one per legacy table, each a plain column list over
// the renamed table (so Postgres updates through it: inserts, updates, deletes and RETURNING
// work as on the table, with the table's defaults and constraints).
//
// A schema of their own, not views beside the tables: tenant_id is renamed in tables that keep
// their names (igny8_users, igny8_sites, ...), and a view cannot share its table's name. The
// legacy application's role reads igny8_legacy first (`alter role ... set search_path =
// igny8_legacy, public`, set before expand: a schema that does not exist yet is skipped).
//
// Contract retires the legacy application: the views go before the first contract migration
// (they depend on the columns contract drops).
import type { Knex } from 'knex';

export const LEGACY_VIEWS_SCHEMA = 'igny8_legacy';

/** Each legacy table and the table it is called now. */
const BASE_OF: Record<string, string> = { igny8_tenants: 'igny8_accounts' };
/** Legacy column names the renames changed, by their current name. */
const LEGACY_COLUMN: Record<string, string> = { account_id: 'tenant_id' };

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Creates the igny8_legacy views of the given legacy tables (called right after the renames). */
export async function createLegacyViews(trx: Knex.Transaction, legacyTables: readonly string[]): Promise<number> {
  await trx.raw(`create schema if not exists ${LEGACY_VIEWS_SCHEMA}`);
  let created = 0;
  for (const legacy of legacyTables) {
    const base = BASE_OF[legacy] ?? legacy;
    const columns = await trx.raw(
      `select a.attname as name from pg_attribute a
        where a.attrelid = to_regclass(?) and a.attnum > 0 and not a.attisdropped order by a.attnum`,
      [base],
    );
    const names = (columns.rows as Array<{ name: string }>).map((row) => row.name);
    if (names.length === 0) continue;
    const list = names.map((name) => (LEGACY_COLUMN[name] ? `${quote(name)} as ${quote(LEGACY_COLUMN[name])}` : quote(name)));
    await trx.raw(
      `create view ${LEGACY_VIEWS_SCHEMA}.${quote(legacy)} as select ${list.join(', ')} from ${quote(base)}`,
    );
    await copyGrants(trx, base, `${LEGACY_VIEWS_SCHEMA}.${quote(legacy)}`);
    created += 1;
  }
  return created;
}

/** Whoever could use the table may use its view: the legacy role keeps working without new grants. */
async function copyGrants(trx: Knex.Transaction, table: string, view: string): Promise<void> {
  const grants = await trx.raw(
    `select case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end as grantee, a.privilege_type as privilege
       from pg_class c cross join lateral aclexplode(c.relacl) a left join pg_roles r on r.oid = a.grantee
      where c.oid = to_regclass(?) and a.grantee <> c.relowner`,
    [table],
  );
  for (const { grantee, privilege } of grants.rows as Array<{ grantee: string; privilege: string }>) {
    await trx.raw(`grant usage on schema ${LEGACY_VIEWS_SCHEMA} to ${grantee}`);
    await trx.raw(`grant ${privilege} on ${view} to ${grantee}`);
  }
}

/** Drops the legacy views (nothing else lives in their schema). */
export async function dropLegacyViews(trx: Knex.Transaction | Knex): Promise<void> {
  await trx.raw(`drop schema if exists ${LEGACY_VIEWS_SCHEMA} cascade`);
}
