// Every write is one transaction. Serialization failures and deadlocks are retried a few
// times, since under concurrency they are the database asking us to try again.
import type { Knex } from 'knex';
import { sqlState, SqlState } from '../errors.js';

export interface TransactionOptions {
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable';
  /** How many times to retry on serialization failure or deadlock. */
  retries?: number;
}

const RETRYABLE = new Set<string>([SqlState.serializationFailure, SqlState.deadlockDetected]);

export async function withTransaction<T>(
  knex: Knex,
  work: (trx: Knex.Transaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await knex.transaction(work, {
        isolationLevel: options.isolationLevel,
      });
    } catch (error) {
      const state = sqlState(error);
      if (attempt >= retries || state === undefined || !RETRYABLE.has(state)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}

/** Runs statements one by one: PGlite's extended protocol takes a single statement a call. */
export async function execStatements(
  trx: Knex | Knex.Transaction,
  statements: readonly string[],
): Promise<void> {
  for (const statement of statements) await trx.raw(statement);
}
