// seed #9: one name per concept. igny8_tenants becomes igny8_accounts and every tenant_id
// becomes account_id; constraints, indexes and sequences are renamed with them, so a migrated
// database and a fresh one end with the same names. Names are looked up rather than assumed:
// a database adopted from Django has its own constraint names.
//
// An expand migration: the legacy application keeps its names through the views in
// igny8_legacy (src/schema/legacy-views.ts), created in the same transaction as the renames.
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations.js';
import { LEGACY_TABLES } from '../schema/legacy.js';
import { createLegacyViews, dropLegacyViews, LEGACY_VIEWS_SCHEMA } from '../schema/legacy-views.js';
import { plural } from './support/ddl.js';

interface Renames {
  table: [string, string];
  column: [string, string];
}

const LOCK_ORDER = [
  'igny8_users', 'igny8_tenants', 'igny8_credit_transactions', 'igny8_subscriptions', 'igny8_account_payment_methods',
  'igny8_invoices', 'igny8_sites', 'igny8_sectors', 'igny8_site_integrations',
];

const UP: Renames = { table: ['igny8_tenants', 'igny8_accounts'], column: ['tenant_id', 'account_id'] };
const DOWN: Renames = { table: ['igny8_accounts', 'igny8_tenants'], column: ['account_id', 'tenant_id'] };

const rename = (name: string, r: Renames) => name.split(r.table[0]).join(r.table[1]).split(r.column[0]).join(r.column[1]);
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function names(trx: Knex.Transaction, sql: string, r: Renames): Promise<Array<Record<string, string>>> {
  const result = await trx.raw(sql, [`%${r.table[0]}%`, `%${r.column[0]}%`]);
  // LIKE's `_` matches any character: keep only names that really contain the old words.
  return (result.rows as Array<Record<string, string>>).filter((row) => rename(row.name, r) !== row.name);
}

async function renameAll(trx: Knex.Transaction, r: Renames, note: (line: string) => void): Promise<void> {
  const columns = await trx.raw(
    `select c.relname as "table"
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r' and a.attname = ? and not a.attisdropped
        and c.relname like 'igny8\\_%'
      order by c.relname`,
    [r.column[0]],
  );
  // Every table it renames, locked in one statement before the first rename, in the order the
  // legacy application's transactions take them (a signup writes the user, then the account;
  // credits and payment methods the account, then the ledger and subscriptions; sites before
  // sectors): a transaction holding one of them then waits for none the migration holds.
  const order = (table: string) => {
    const index = LOCK_ORDER.indexOf(table === r.table[1] ? r.table[0] : table);
    return index < 0 ? LOCK_ORDER.length : index;
  };
  const tables = [r.table[0], ...(columns.rows as Array<{ table: string }>).map(({ table }) => table).filter((table) => table !== r.table[0])]
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  await trx.raw(`lock table ${tables.map(quote).join(', ')} in access exclusive mode`);
  await trx.raw(`alter table ${r.table[0]} rename to ${r.table[1]}`);
  for (const { table } of columns.rows as Array<{ table: string }>) {
    const current = table === r.table[0] ? r.table[1] : table;
    await trx.raw(`alter table ${quote(current)} rename column ${r.column[0]} to ${r.column[1]}`);
  }
  // Renaming a unique or primary-key constraint renames its index too: constraints first.
  const constraints = await names(
    trx,
    `select c.conrelid::regclass::text as "table", c.conname as name
       from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where n.nspname = current_schema() and c.conrelid <> 0 and (c.conname like ? or c.conname like ?)
      order by 1, 2`,
    r,
  );
  for (const { table, name } of constraints) {
    await trx.raw(`alter table ${table} rename constraint ${quote(name)} to ${quote(rename(name, r))}`);
  }
  const relations = await names(
    trx,
    `select c.relname as name, c.relkind as kind
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('i', 'S') and (c.relname like ? or c.relname like ?)
      order by 1`,
    r,
  );
  for (const { name, kind } of relations) {
    const what = kind === 'S' ? 'sequence' : 'index';
    await trx.raw(`alter ${what} ${quote(name)} rename to ${quote(rename(name, r))}`);
  }
  note(
    `${r.table[0]} → ${r.table[1]}; ${r.column[0]} → ${r.column[1]} in ${plural(columns.rows.length, 'table')}; ` +
      `${plural(constraints.length, 'constraint')} and ${plural(relations.length, 'index or sequence', 'indexes and sequences')} renamed`,
  );
}

const migration: Migration = {
  description: 'igny8_tenants → igny8_accounts, tenant_id → account_id (seed #9); the legacy names as views in igny8_legacy',
  phase: 'expand',
  locks: [
    { table: 'igny8_tenants', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_users', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_subscriptions', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_account_payment_methods', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_invoices', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_credit_transactions', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_sites', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_sectors', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_site_integrations', mode: 'ACCESS EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await renameAll(trx, UP, note);
    const views = await createLegacyViews(trx, LEGACY_TABLES);
    note(`${plural(views, 'view')} in ${LEGACY_VIEWS_SCHEMA} keep the legacy names for the legacy application`);
  },
  async down({ trx, note }) {
    await dropLegacyViews(trx);
    await renameAll(trx, DOWN, note);
  },
};

export default migration;
