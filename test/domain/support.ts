// Shared by the domain tests: a database in the target shape with the catalog, row counts
// that show "nothing written", and the ledger chain as the audit reads it.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { connect, type Database } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { withTransaction } from '../../src/db/transaction.js';
import { syncCatalog } from '../../src/domain/catalog.js';
import type { ScryptCost } from '../../src/domain/passwords.js';
import type { TestDatabase } from '../helpers/databases.js';

/** A cheap scrypt cost, only for tests whose subject is not the password. */
export const FAST_SCRYPT: ScryptCost = { log2N: 4, r: 8, p: 1 };

export async function prepareTargetDatabase(db: Database): Promise<void> {
  const run = await migrateLatest(db);
  if (run.error) throw run.error;
  await withTransaction(db.knex, (trx) => syncCatalog(trx));
}

/** Opens the test database (PGlite: reopened from its directory, then closed again). */
export async function withTestDatabase<T>(t: TestDatabase, work: (db: Database) => Promise<T>): Promise<T> {
  if (t.kind === 'postgres') return work(t.db);
  const db = await connect({ dataDir: t.dataDir });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

export function uniqueName(prefix = 'Acme'): string {
  return `${prefix} ${randomBytes(4).toString('hex')}`;
}

export const DOMAIN_TABLES = [
  'igny8_accounts',
  'igny8_users',
  'igny8_subscriptions',
  'igny8_invoices',
  'igny8_account_payment_methods',
  'igny8_credit_transactions',
  'igny8_sites',
  'igny8_sectors',
  'igny8_site_user_access',
] as const;

export async function countRows(knex: Knex | Knex.Transaction): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of DOMAIN_TABLES) {
    const [{ count }] = (await knex(table).count({ count: '*' })) as Array<{ count: number }>;
    counts[table] = count;
  }
  return counts;
}

/** Ledger rows whose balance_after is not the previous row's plus the amount (from 0). */
export async function brokenLedgerRows(knex: Knex, accountId: number): Promise<number> {
  const result = await knex.raw(
    `select count(*) as broken from (
       select balance_after, amount,
              coalesce(lag(balance_after) over (order by id), 0) as previous
         from igny8_credit_transactions where account_id = ?) chain
      where balance_after <> previous + amount`,
    [accountId],
  );
  return Number((result.rows as Array<{ broken: number }>)[0].broken);
}
