// Advisory locks held by a session, so a crashed process can never leave a stale lock:
// Postgres releases them when the connection ends. PGlite has one connection in one
// process (the data directory lock keeps other processes out), so an in-process queue
// gives the same guarantee there.
import type { Knex } from 'knex';
import type { Database } from './connect.js';
import { DomainRefusal } from '../errors.js';

interface RawPgConnection {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}
interface PooledClient {
  acquireConnection(): Promise<RawPgConnection>;
  releaseConnection(connection: RawPgConnection): Promise<void>;
}

/** How often a session waiting for an advisory lock asks again. */
const LOCK_POLL_MS = 100;

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
      // Polled, not a blocking pg_advisory_lock(): a session blocked in it keeps a snapshot open,
      // and the holder's CREATE INDEX CONCURRENTLY waits for every older snapshot to end. The
      // two would wait for each other on different sessions, where no deadlock check sees it.
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
        const again = await connection.query('select pg_try_advisory_lock(hashtext($1)) as ok', [name]);
        if (again.rows[0]?.ok === true) break;
      }
    }
    await assertAdvisoryLockHeld(connection, name);
    try {
      return await work();
    } finally {
      await connection.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * A session lock taken through a pooler in transaction mode (PgBouncer pool_mode=transaction)
 * lands on whichever server connection ran that statement and is not ours a statement later:
 * it protects nothing. Asking the server whether this session holds it tells the two apart.
 */
async function assertAdvisoryLockHeld(connection: RawPgConnection, name: string): Promise<void> {
  const held = await connection.query(
    `select exists(select 1 from pg_locks
                    where locktype = 'advisory' and pid = pg_backend_pid() and granted and objsubid = 1
                      and objid = (hashtext($1)::bigint & 4294967295)::oid) as held`,
    [name],
  );
  if (held.rows[0]?.held === true) return;
  await connection.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
  throw new DomainRefusal(`the lock "${name}" was granted but this session does not hold it: a connection pooler in transaction mode sits between igny8 and the database`, {
    code: 'pooler-transaction-mode',
    details: ['hint: migrate and repair need a direct connection or a pooler in session mode (PgBouncer pool_mode=session)'],
  });
}

export interface LockHolder {
  pid: number;
  tables: string[];
  mode: string;
  state: string | null;
  applicationName: string | null;
  transactionStart: Date | null;
  queryStart: Date | null;
}

/**
 * Other sessions holding locks on igny8's tables, strongest first: who a timed-out statement
 * was waiting for. Their query text is not read; it may hold values that are not ours to show.
 */
export async function lockHolders(knex: Knex): Promise<LockHolder[]> {
  const result = await knex.raw(`
    select a.pid, array_agg(distinct c.relname::text order by c.relname::text) as tables,
           (array_agg(l.mode order by case l.mode when 'AccessExclusiveLock' then 0 when 'ExclusiveLock' then 1
                        when 'ShareRowExclusiveLock' then 2 when 'ShareLock' then 3 when 'ShareUpdateExclusiveLock' then 4
                        when 'RowExclusiveLock' then 5 when 'RowShareLock' then 6 else 7 end))[1] as mode,
           a.state, a.application_name, a.xact_start, a.query_start
      from pg_locks l
      join pg_class c on c.oid = l.relation
      join pg_stat_activity a on a.pid = l.pid
     where l.granted and l.pid <> pg_backend_pid() and c.relname like 'igny8\\_%'
     group by a.pid, a.state, a.application_name, a.xact_start, a.query_start
     order by min(case l.mode when 'AccessExclusiveLock' then 0 when 'ExclusiveLock' then 1 else 2 end), a.xact_start
     limit 5`);
  return (result.rows as Array<Record<string, unknown>>).map((row) => ({
    pid: Number(row.pid),
    tables: row.tables as string[],
    mode: String(row.mode),
    state: (row.state as string | null) ?? null,
    applicationName: (row.application_name as string | null) || null,
    transactionStart: (row.xact_start as Date | null) ?? null,
    queryStart: (row.query_start as Date | null) ?? null,
  }));
}

/** The lock every schema change and every repair takes, so they take turns. */
const MIGRATION_LOCK = 'igny8.migrate';

/** Holds the migration lock for `work`: one migrate or repair at a time per database. */
export function withMigrationLock<T>(db: Database, work: () => Promise<T>, onWait?: () => void): Promise<T> {
  return withAdvisoryLock(db, MIGRATION_LOCK, work, onWait);
}
