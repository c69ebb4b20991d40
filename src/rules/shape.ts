// What every rule is judged against, read once per run: the shape of the database, what its
// schema guarantees, and the account scope.
import type { Knex } from 'knex';
import { inspectSchema } from '../schema/inspect.js';
import { loadConstraints } from './constraints.js';
import { LEDGER } from './ledger.js';
import type { Shape } from './types.js';

/** How closely a ledger in account order must follow its account column (pg_stats correlation). */
const ACCOUNT_ORDER = 0.95;

/** Whether the ledger's heap follows its account column, from the statistics ANALYZE keeps. */
async function ledgerInAccountOrder(knex: Knex | Knex.Transaction, column: string): Promise<boolean> {
  const result = await knex.raw(
    `select correlation from pg_stats where schemaname = current_schema() and tablename = ? and attname = ?`,
    [LEDGER, column],
  );
  const correlation = result.rows[0]?.correlation;
  return correlation !== null && correlation !== undefined && Number(correlation) >= ACCOUNT_ORDER;
}

export async function readShape(knex: Knex | Knex.Transaction, accountId?: number, credentialKey?: Buffer): Promise<Shape> {
  const [schema, constraints] = await Promise.all([inspectSchema(knex), loadConstraints(knex)]);
  const ordered = schema.hasTable(LEDGER) && (await ledgerInAccountOrder(knex, schema.accountColumn(LEDGER)));
  return {
    schema,
    constraints,
    ...(ordered ? { ledgerInAccountOrder: true } : {}),
    ...(accountId === undefined ? {} : { accountId }),
    ...(credentialKey === undefined ? {} : { credentialKey }),
  };
}
