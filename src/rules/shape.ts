// What every rule is judged against, read once per run: the shape of the database, what its
// schema guarantees, and the account scope.
import type { Knex } from 'knex';
import { inspectSchema } from '../schema/inspect.js';
import { loadConstraints, type SchemaConstraints } from './constraints.js';
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
 * Whether a valid, non-partial btree index on the ledger has the account and the id as its
 * first two keys and carries every column of LEDGER_WALK_COLUMNS, as key or included column.
 */
function ledgerWalkIndex(constraints: SchemaConstraints, accountColumn: string): boolean {
  const walk = constraints.index(
    LEDGER,
    (index) =>
      index.method === 'btree' &&
      index.predicate === null &&
      index.keyColumns >= 2 &&
      index.columns[0] === accountColumn &&
      index.columns[1] === 'id' &&
      LEDGER_WALK_COLUMNS.every((column) => index.columns.includes(column)),
  );
  return walk !== undefined;
}

/**
 * What one query tells of the ledger: whether every ledger id and account id is below 2^31
 * (two index lookups), and its rows as the statistics estimate them (undefined where it was
 * never analysed).
 */
async function ledgerFacts(knex: Knex | Knex.Transaction, accounts: string): Promise<{ idsPack: boolean; rows: number | undefined }> {
  const result = await knex.raw(
    `select coalesce((select max(id) from ${LEDGER}), 0) < 2147483648 and coalesce((select max(id) from ${accounts}), 0) < 2147483648 as fits,
            (select reltuples from pg_class where oid = to_regclass(?)) as rows`,
    [LEDGER],
  );
  const row = result.rows[0] as { fits: boolean; rows: number | string | null };
  const rows = Number(row.rows ?? -1);
  return { idsPack: row.fits === true, rows: rows >= 0 ? rows : undefined };
}

export async function readShape(knex: Knex | Knex.Transaction, accountId?: number, credentialKey?: Buffer): Promise<Shape> {
  const [schema, constraints] = await Promise.all([inspectSchema(knex), loadConstraints(knex)]);
  const follows = await heapFollows(knex);
  const ordered = schema.hasTable(LEDGER) && follows.includes(`${LEDGER}.${schema.accountColumn(LEDGER)}`);
  const ledger = schema.hasTable(LEDGER) && schema.hasTable(schema.accountsTable) ? await ledgerFacts(knex, schema.accountsTable) : undefined;
  const walkIndex = schema.hasTable(LEDGER) && ledgerWalkIndex(constraints, schema.accountColumn(LEDGER));
  return {
    schema,
    constraints,
    ...(ordered ? { ledgerInAccountOrder: true } : {}),
    ...(follows.length > 0 ? { heapFollows: follows } : {}),
    ...(ledger?.idsPack ? { ledgerIdsPack: true } : {}),
    ...(walkIndex ? { ledgerWalkIndex: true } : {}),
    ...(ledger?.rows === undefined ? {} : { ledgerRows: ledger.rows }),
    ...(accountId === undefined ? {} : { accountId }),
    ...(credentialKey === undefined ? {} : { credentialKey }),
  };
}
