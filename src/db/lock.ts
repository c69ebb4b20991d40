// Advisory locks held by a session, so a crashed process can never leave a stale lock:
// Postgres releases them when the connection ends. PGlite has one connection in one
// process (the data directory lock keeps other processes out), so an in-process queue
// gives the same guarantee there.
import type { Database } from './connect.js';

interface RawPgConnection {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}
interface PooledClient {
  acquireConnection(): Promise<RawPgConnection>;
  releaseConnection(connection: RawPgConnection): Promise<void>;
}

const inProcessQueues = new WeakMap<object, Map<string, Promise<unknown>>>();

async function withInProcessLock<T>(owner: object, name: string, work: () => Promise<T>): Promise<T> {
  let queues = inProcessQueues.get(owner);
  if (!queues) inProcessQueues.set(owner, (queues = new Map()));
  const previous = queues.get(name) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(work);
  queues.set(name, run);
  try {
    return await run;
  } finally {
    if (queues.get(name) === run) queues.delete(name);
  }
}

/**
 * Holds the advisory lock `name` for the duration of `work`. When another session holds it,
 * `onWait` is called once and the call waits for it.
 */
export async function withAdvisoryLock<T>(
  db: Database,
  name: string,
  work: () => Promise<T>,
  onWait?: () => void,
): Promise<T> {
  if (!db.concurrent) return withInProcessLock(db.knex, name, work);
  const client = db.knex.client as unknown as PooledClient;
  const connection = await client.acquireConnection();
  try {
    const tried = await connection.query('select pg_try_advisory_lock(hashtext($1)) as ok', [name]);
    if (tried.rows[0]?.ok !== true) {
      onWait?.();
      await connection.query('select pg_advisory_lock(hashtext($1))', [name]);
    }
    try {
      return await work();
    } finally {
      await connection.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}
