// `igny8 migrate --plan`: what each pending migration will do, in the order a run applies them,
// without taking a lock or writing anything: its phase, the lock it takes on each table (from
// its declaration, which a test holds to pg_locks), whether it works through a table's rows
// while holding a lock that blocks writes, and the rows concerned, estimated from pg_class
// statistics (reltuples: what ANALYZE or autovacuum last measured; unknown before either ran).
import type { Database } from './connect.js';
import {
  blocksReads,
  blocksWrites,
  isBatched,
  listMigrationFiles,
  loadMigration,
  phaseOf,
  type LockMode,
  type MigrationPhase,
  type TableLock,
} from './migrations.js';
import { migrationStatus, requireKnownMigration, runOrder } from './migrator.js';

export interface PlannedLock {
  table: string;
  mode: LockMode;
  blocksReads: boolean;
  blocksWrites: boolean;
  /** What it does to the table's rows while the lock is held. */
  work: NonNullable<TableLock['work']> | 'none';
  bounded?: string;
  /** Estimated rows of the table (pg_class.reltuples); null when never measured. */
  rows: number | null;
}

export interface PlanEntry {
  name: string;
  phase: MigrationPhase;
  description: string;
  batched: boolean;
  locks: PlannedLock[];
  /** Backfills run in batches of short transactions, after the locks above are released. */
  backfills: Array<{ table: string; rows: number | null }>;
  concurrentIndexes: string[];
  /** Work through a table's rows under a lock that blocks writes: what a running application waits for. */
  warnings: string[];
  irreversible?: string;
  /** The migration declares no locks: what it takes is unknown to the plan. */
  locksUndeclared?: boolean;
}

/** A table's name before the renames of 0004, for a database they have not reached yet. */
const EARLIER_NAME: Record<string, string> = { igny8_accounts: 'igny8_tenants' };

async function estimatedRows(db: Database, table: string): Promise<number | null> {
  for (const name of [table, EARLIER_NAME[table]].filter(Boolean)) {
    const result = await db.knex.raw(`select reltuples::float8 as rows from pg_class where oid = to_regclass(?)`, [name]);
    const row = result.rows[0] as { rows: number } | undefined;
    if (row) return row.rows < 0 ? null : Math.round(row.rows);
  }
  // Created by an earlier pending migration: empty until then.
  return 0;
}

export async function migrationPlan(
  db: Database,
  options: { phase?: MigrationPhase; to?: string; migrationsDir?: string } = {},
): Promise<PlanEntry[]> {
  const files = listMigrationFiles(options.migrationsDir);
  if (options.to !== undefined) requireKnownMigration(files, options.to);
  const status = await migrationStatus(db, options.migrationsDir);
  const pendingNames = new Set(status.filter((row) => row.state === 'pending').map((row) => row.name));
  let pending = files.filter((file) => pendingNames.has(file.name));
  if (options.to !== undefined) pending = pending.filter((file) => file.name <= options.to!);
  const ordered = await runOrder(pending, options.phase);
  const entries: PlanEntry[] = [];
  for (const file of ordered) {
    const migration = await loadMigration(file);
    const locks: PlannedLock[] = [];
    const warnings: string[] = [];
    for (const lock of migration.locks ?? []) {
      const rows = await estimatedRows(db, lock.table);
      const planned: PlannedLock = {
        table: lock.table,
        mode: lock.mode,
        blocksReads: blocksReads(lock.mode),
        blocksWrites: blocksWrites(lock.mode),
        work: lock.work ?? 'none',
        ...(lock.bounded ? { bounded: lock.bounded } : {}),
        rows,
      };
      locks.push(planned);
      if (planned.blocksWrites && planned.work !== 'none' && !planned.bounded) {
        const verb = { scan: 'reads every row', write: 'writes rows', rewrite: 'rewrites the table' }[planned.work];
        warnings.push(
          `${verb} of ${lock.table} (${rows === null ? 'size unknown: run ANALYZE' : `~${rows.toLocaleString('en-US')} rows`}) ` +
            `holding ${lock.mode}, which blocks ${planned.blocksReads ? 'reads and writes' : 'writes'}`,
        );
      }
    }
    const backfills = [];
    for (const backfill of migration.backfills ?? []) backfills.push({ table: backfill.table, rows: await estimatedRows(db, backfill.table) });
    entries.push({
      name: file.name,
      phase: phaseOf(migration),
      description: migration.description,
      batched: isBatched(migration),
      locks,
      backfills,
      concurrentIndexes: (migration.concurrentIndexes ?? []).map((index) => index.name),
      warnings,
      ...(migration.down ? {} : { irreversible: migration.irreversible ?? 'no down migration' }),
      ...(migration.locks === undefined ? { locksUndeclared: true } : {}),
    });
  }
  return entries;
}
