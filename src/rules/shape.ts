// What every rule is judged against, read once per run: the shape of the database, what its
// schema guarantees, and the account scope.
import type { Knex } from 'knex';
import { inspectSchema } from '../schema/inspect.js';
import { loadConstraints } from './constraints.js';
import { LEDGER, LEDGER_WALK_COLUMNS } from './ledger.js';
import type { Shape } from './types.js';

/** How closely a heap must follow a column to count as in its order (pg_stats correlation). */
const IN_ORDER = 0.95;

/** The `table.column`s of igny8's tables whose heap follows the column, from the statistics ANALYZE keeps. */
async function heapFollows(knex: Knex | Knex.Transaction): Promise<string[]> {
  const result = await knex.raw(
    `select tablename || '.' || attname as name from pg_stats
      where schemaname = current_schema() and tablename like 'igny8\\_%' and correlation >= ?
      order by 1`,
    [IN_ORDER],
  );
  return (result.rows as Array<{ name: string }>).map((row) => row.name);
}

/**
 * Whether a valid, plain btree index on the ledger leads with (account, id) and carries every
 * column of LEDGER_WALK_COLUMNS, as key or included column.
 */
async function ledgerWalkIndex(knex: Knex | Knex.Transaction, accountColumn: string): Promise<boolean> {
  const result = await knex.raw(
    `select exists (
       select 1 from pg_index i
         join pg_class c on c.oid = i.indexrelid
         join pg_am am on am.oid = c.relam
        where i.indrelid = to_regclass(?) and i.indisvalid and am.amname = 'btree'
          and i.indpred is null and i.indexprs is null
          and i.indkey[0] = (select attnum from pg_attribute where attrelid = i.indrelid and attname = ?)
          and i.indkey[1] = (select attnum from pg_attribute where attrelid = i.indrelid and attname = 'id')
          and (select count(*) from pg_attribute a
                where a.attrelid = i.indrelid and a.attname = any(?) and a.attnum = any(i.indkey::int2[])) = ?
     ) as present`,
    [LEDGER, accountColumn, LEDGER_WALK_COLUMNS as string[], LEDGER_WALK_COLUMNS.length],
  );
  return result.rows[0].present === true;
}

/** Whether every ledger id and account id is below 2^31 (two index lookups). */
async function ledgerIdsPack(knex: Knex | Knex.Transaction, accounts: string): Promise<boolean> {
  const result = await knex.raw(
    `select coalesce((select max(id) from ${LEDGER}), 0) < 2147483648 and coalesce((select max(id) from ${accounts}), 0) < 2147483648 as fits`,
  );
  return result.rows[0].fits === true;
}

export async function readShape(knex: Knex | Knex.Transaction, accountId?: number, credentialKey?: Buffer): Promise<Shape> {
  const [schema, constraints] = await Promise.all([inspectSchema(knex), loadConstraints(knex)]);
  const follows = await heapFollows(knex);
  const ordered = schema.hasTable(LEDGER) && follows.includes(`${LEDGER}.${schema.accountColumn(LEDGER)}`);
  const packed = schema.hasTable(LEDGER) && schema.hasTable(schema.accountsTable) && (await ledgerIdsPack(knex, schema.accountsTable));
  const walkIndex = schema.hasTable(LEDGER) && (await ledgerWalkIndex(knex, schema.accountColumn(LEDGER)));
  return {
    schema,
    constraints,
    ...(ordered ? { ledgerInAccountOrder: true } : {}),
    ...(follows.length > 0 ? { heapFollows: follows } : {}),
    ...(packed ? { ledgerIdsPack: true } : {}),
    ...(walkIndex ? { ledgerWalkIndex: true } : {}),
    ...(accountId === undefined ? {} : { accountId }),
    ...(credentialKey === undefined ? {} : { credentialKey }),
  };
}
