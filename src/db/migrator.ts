// The migration runner: one transaction per migration, results per migration as they
// happen, a checksum recorded per applied migration, the migration lock around every run, and
// timeouts set inside each migration's transaction so a migration never waits forever behind a
// lock. What a migration is, and where the files are, is src/db/migrations.ts.
import type { Knex } from 'knex';
import type { Database } from './connect.js';
import { withMigrationLock } from './lock.js';
import {
  CHECKSUM_ALGORITHM,
  isBatched,
  listMigrationFiles,
  loadMigration,
  phaseOf,
  type Migration,
  type MigrationContext,
  type MigrationFile,
  type MigrationPhase,
  type PreflightContext,
} from './migrations.js';
import { dropLegacyViews } from '../schema/legacy-views.js';
import { classifyError, DomainRefusal, sqlState, SqlState, ValidationError, type Igny8Error } from '../errors.js';
import { igny8Version } from '../version.js';
import { plural } from '../render/text.js';

export const MIGRATIONS_TABLE = 'igny8_migrations';

export type MigrationState = 'applied' | 'pending';

export interface MigrationStatusRow {
  name: string;
  state: MigrationState;
  /** The rollout phase the migration declares (contract when it declares none); null without a file. */
  phase: MigrationPhase | null;
  appliedAt: Date | null;
  /** The file's checksum now; null when an applied migration has no file any more. */
  checksum: string | null;
  /** The checksum recorded when it was applied. */
  appliedChecksum: string | null;
  /** Applied, and its source text differs from what was applied. */
  changed: boolean;
  /** Applied by an older igny8, whose checksums cannot be compared with today's. */
  olderChecksum: boolean;
  /** Applied, but no migration of that name exists here (an unknown migration). */
  missingFile: boolean;
  /** Pending, though a later migration of the same phase is applied: the chain has a gap. */
  skipped: boolean;
  /** A batched migration a run stopped in: the rows its backfills wrote so far (it resumes there). */
  progress?: { rows: number };
}

/**
 * Where a database stands in the rollout:
 * - empty: no migration applied;
 * - expand pending: an expand migration is pending (the legacy application still runs as before);
 * - expanded: every expand migration applied, contract ones pending: both applications work;
 * - complete: nothing pending.
 */
export type DatabasePhase = 'empty' | 'expand pending' | 'expanded' | 'complete';

export function databasePhase(rows: readonly MigrationStatusRow[]): DatabasePhase {
  const known = rows.filter((row) => !row.missingFile);
  if (!known.some((row) => row.state === 'applied')) return 'empty';
  if (known.some((row) => row.state === 'pending' && row.phase === 'expand')) return 'expand pending';
  if (known.some((row) => row.state === 'pending')) return 'expanded';
  return 'complete';
}

export type RunStatus = 'applied' | 'reverted' | 'failed' | 'not run' | 'rolled back';

export interface MigrationRunResult {
  name: string;
  status: RunStatus;
  durationMs: number;
  notes: string[];
  error?: Igny8Error;
}

export interface RunOptions {
  dryRun?: boolean;
  /**
   * expand: only the pending expand migrations (also those numbered after a pending contract
   * one); contract: only the contract ones, refused while an expand one is pending; absent:
   * the pending expand migrations, then the contract ones (an offline window).
   */
  phase?: MigrationPhase;
  /** Stop after this migration (it is applied; later ones stay pending). */
  to?: string;
  /** Postgres interval text, e.g. '10s'. */
  lockTimeout?: string;
  statementTimeout?: string;
  migrationsDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Called once if another igny8 process holds the migration lock. */
  onWait?: () => void;
  /** Called as each migration starts (progress display). */
  onStart?: (name: string) => void;
  /** Called with each migration's result as soon as it is known (committed, failed, not run). */
  onResult?: (result: MigrationRunResult) => void;
  /**
   * Inspection seam: called inside each migration's transaction after its up() and before the
   * commit (the locks it holds are still held). Tests use it to compare a migration's declared
   * locks with pg_locks.
   */
  beforeCommit?: (name: string, trx: Knex.Transaction) => Promise<void>;
  /** Rows per batch of a batched migration (default DEFAULT_BATCH_SIZE). */
  batchSize?: number;
}

export const DEFAULT_LOCK_TIMEOUT = '10s';
/**
 * An expand migration waits at most this long for a lock at a time: while its DDL waits, every
 * statement of the running application queued behind it waits too. It then rolls back, lets the
 * queue drain and tries again, until --lock-timeout is spent. Below Postgres' deadlock_timeout
 * (1 s by default): when the migration and an application transaction wait for each other, the
 * migration gives up before the deadlock check would pick the application's transaction.
 */
export const EXPAND_LOCK_ATTEMPT = '500ms';
/** Rows per batch of a batched migration's backfill: one short transaction each. */
export const DEFAULT_BATCH_SIZE = 10_000;
export const PROGRESS_TABLE = 'igny8_migration_progress';
export const DEFAULT_STATEMENT_TIMEOUT = '15min';

export async function ensureMigrationsTable(knex: Knex | Knex.Transaction): Promise<void> {
  await knex.raw(`create table if not exists ${MIGRATIONS_TABLE} (
    name varchar(255) primary key,
    checksum char(64) not null,
    applied_at timestamptz not null default now(),
    duration_ms integer not null default 0
  )`);
  // Added later: rows an older igny8 wrote keep algorithm 1 and no version.
  await knex.raw(`alter table ${MIGRATIONS_TABLE}
    add column if not exists checksum_algorithm smallint not null default 1,
    add column if not exists igny8_version varchar(50)`);
}

/** The row that records a migration as applied: its checksum, the algorithm, igny8's version. */
function appliedRow(file: MigrationFile): Record<string, unknown> {
  return {
    name: file.name,
    checksum: file.checksum,
    checksum_algorithm: CHECKSUM_ALGORITHM,
    igny8_version: igny8Version(),
  };
}

interface AppliedRow {
  name: string;
  checksum: string;
  applied_at: Date;
  checksum_algorithm: number | null;
}

async function appliedMigrations(knex: Knex | Knex.Transaction): Promise<Map<string, AppliedRow>> {
  const exists = await knex.raw(`select to_regclass(?) is not null as present`, [MIGRATIONS_TABLE]);
  if (!exists.rows[0].present) return new Map();
  const hasAlgorithm = await knex.raw(
    `select exists(select 1 from pg_attribute where attrelid = to_regclass(?) and attname = 'checksum_algorithm' and not attisdropped) as present`,
    [MIGRATIONS_TABLE],
  );
  const rows: AppliedRow[] = await knex(MIGRATIONS_TABLE)
    .select('name', 'checksum', 'applied_at', hasAlgorithm.rows[0].present ? 'checksum_algorithm' : knex.raw('1 as checksum_algorithm'))
    .orderBy([{ column: 'applied_at' }, { column: 'name' }]);
  // In the order they were applied (a Map keeps insertion order): expand and contract
  // migrations interleave by number, so the name alone does not say which came last.
  return new Map(rows.map((row) => [row.name, row]));
}

export async function migrationStatus(
  db: Database,
  migrationsDir?: string,
): Promise<MigrationStatusRow[]> {
  const files = listMigrationFiles(migrationsDir);
  await refuseUnadoptedLegacy(db.knex);
  const applied = await appliedMigrations(db.knex);
  const loaded = new Map<string, Migration>();
  for (const file of files) loaded.set(file.name, await loadMigration(file));
  const phases = new Map([...loaded].map(([name, migration]) => [name, phaseOf(migration)]));
  const unfinished = new Map<string, number>();
  if ((await db.knex.raw(`select to_regclass(?) is not null as present`, [PROGRESS_TABLE])).rows[0].present) {
    for (const row of (await db.knex(PROGRESS_TABLE).select('name', 'rows')) as Array<{ name: string; rows: string }>) {
      unfinished.set(row.name, Number(row.rows));
    }
  }
  // A pending contract migration below an applied expand one is the rollout, not a gap.
  const lastApplied = (phase: MigrationPhase) =>
    files.filter((file) => applied.has(file.name) && phases.get(file.name) === phase).at(-1)?.name ?? '';
  const last = { expand: lastApplied('expand'), contract: lastApplied('contract') };
  const rows: MigrationStatusRow[] = files.map((file) => {
    const row = applied.get(file.name);
    const comparable = row !== undefined && row.checksum_algorithm === CHECKSUM_ALGORITHM;
    const phase = phases.get(file.name)!;
    return {
      name: file.name,
      state: row ? 'applied' : 'pending',
      phase,
      appliedAt: row?.applied_at ?? null,
      checksum: file.checksum,
      appliedChecksum: row?.checksum.trim() ?? null,
      changed: comparable && row.checksum.trim() !== file.checksum,
      olderChecksum: row !== undefined && !comparable,
      missingFile: false,
      skipped: row === undefined && file.name < last[phase] && !loaded.get(file.name)!.independent,
      ...(unfinished.has(file.name) ? { progress: { rows: unfinished.get(file.name)! } } : {}),
    };
  });
  for (const [name, row] of applied) {
    if (files.some((file) => file.name === name)) continue;
    rows.push({
      name,
      state: 'applied',
      phase: null,
      appliedAt: row.applied_at,
      checksum: null,
      appliedChecksum: row.checksum.trim(),
      changed: false,
      olderChecksum: false,
      missingFile: true,
      skipped: false,
    });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

async function phasesOf(files: readonly MigrationFile[]): Promise<Map<string, MigrationPhase>> {
  const phases = new Map<string, MigrationPhase>();
  for (const file of files) phases.set(file.name, phaseOf(await loadMigration(file)));
  return phases;
}

/**
 * The pending migrations a run applies, in the order it applies them: expand ones first (in
 * number order, so one numbered after a pending contract migration still runs with them), then
 * contract ones. Contract is refused, before anything is written, while an expand migration it
 * could depend on is pending.
 */
export async function runOrder(pending: MigrationFile[], phase: MigrationPhase | undefined): Promise<MigrationFile[]> {
  const phases = await phasesOf(pending);
  const expand = pending.filter((file) => phases.get(file.name) === 'expand');
  const contract = pending.filter((file) => phases.get(file.name) === 'contract');
  if (phase === 'expand') return expand;
  if (phase === 'contract') {
    if (expand.length > 0) {
      throw new DomainRefusal(`--phase contract: ${plural(expand.length, 'expand migration')} pending; nothing was changed`, {
        code: 'expand-pending',
        details: [
          `pending expand: ${expand.map((file) => file.name).join(', ')}`,
          'run `igny8 migrate --phase expand` first, deploy the new application, then contract',
        ],
      });
    }
    return contract;
  }
  return [...expand, ...contract];
}

/** The rows `migrate validate` fails on: changed, unknown (applied, no file) or skipped ones. */
export function invalidMigrations(rows: readonly MigrationStatusRow[]): MigrationStatusRow[] {
  return rows.filter((row) => row.changed || row.missingFile || row.skipped);
}

export function requireKnownMigration(files: MigrationFile[], name: string): void {
  if (files.some((file) => file.name === name)) return;
  throw new ValidationError('--to', `no migration is named "${name}"`, {
    details: [`migrations: ${files[0]?.name ?? 'none'} … ${files.at(-1)?.name ?? 'none'} (\`igny8 migrate status\` lists them)`],
  });
}

/**
 * The legacy Django tables without igny8's record of them: the baseline would try to create
 * them again. `migrate adopt` verifies their shape and records the baseline instead.
 */
async function refuseUnadoptedLegacy(knex: Knex): Promise<void> {
  const result = await knex.raw(
    `select to_regclass(?) is not null as recorded,
            to_regclass('igny8_tenants') is not null or to_regclass('igny8_accounts') is not null or to_regclass('igny8_plans') is not null as tables`,
    [MIGRATIONS_TABLE],
  );
  const { recorded, tables } = result.rows[0] as { recorded: boolean; tables: boolean };
  if (recorded || !tables) return;
  throw new DomainRefusal('this database holds the legacy igny8 tables, but igny8 has not adopted it', {
    code: 'legacy-not-adopted',
    details: ['run `igny8 migrate adopt` first: it verifies the legacy shape and records the baseline as applied'],
  });
}

async function preflight(db: Database, pending: MigrationFile[], options: RunOptions): Promise<void> {
  const ctx: PreflightContext = {
    knex: db.knex,
    kind: db.kind,
    dataDir: db.dataDir,
    env: options.env ?? process.env,
    dryRun: options.dryRun === true,
  };
  for (const file of pending) {
    const migration = await loadMigration(file);
    await migration.preflight?.(ctx);
  }
}

async function setTimeouts(trx: Knex.Transaction, options: RunOptions, lockTimeout?: string): Promise<void> {
  // set_config(..., true) is SET LOCAL: the values end with the transaction.
  await trx.raw(`select set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true)`, [
    lockTimeout ?? options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT,
    options.statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT,
  ]);
}

/** '10s', '500ms', '5min', '1h', '0' (no limit) → milliseconds (Infinity for no limit). */
export function intervalMs(text: string): number {
  const match = text.trim().match(/^(\d+)\s*(ms|s|min|h)?$/);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  if (value === 0) return Number.POSITIVE_INFINITY;
  return value * { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'min' | 'h'];
}

/**
 * One transaction of a migration. An expand migration's lock waits are short attempts
 * (EXPAND_LOCK_ATTEMPT) retried after a pause until --lock-timeout is spent; a contract
 * migration waits up to --lock-timeout once (the application it would block is the new one).
 */
async function migrationTransaction<T>(
  db: Database,
  migration: Migration,
  options: RunOptions,
  notes: string[],
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  if (phaseOf(migration) !== 'expand') {
    return db.knex.transaction(async (trx) => {
      await setTimeouts(trx, options);
      return work(trx);
    });
  }
  const budget = intervalMs(options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT);
  const attempt = Math.min(budget, intervalMs(EXPAND_LOCK_ATTEMPT));
  const started = performance.now();
  for (let retry = 1; ; retry++) {
    // What a rolled-back attempt noted did not happen.
    const noted = notes.length;
    try {
      return await db.knex.transaction(async (trx) => {
        await setTimeouts(trx, options, `${attempt}ms`);
        return work(trx);
      });
    } catch (error) {
      const pause = Math.min(200 * retry, 1000);
      if (sqlState(error) !== SqlState.lockNotAvailable || performance.now() - started + pause + attempt > budget) throw error;
      notes.splice(noted);
      notes.push(`a lock was not granted within ${EXPAND_LOCK_ATTEMPT}: rolled back and retried (attempt ${retry + 1})`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function contextFor(db: Database, trx: Knex.Transaction, options: RunOptions, notes: string[]) {
  return {
    trx,
    kind: db.kind,
    dataDir: db.dataDir,
    env: options.env ?? process.env,
    dryRun: options.dryRun === true,
    note: (line: string) => notes.push(line),
  } satisfies MigrationContext;
}

export interface RunReport {
  results: MigrationRunResult[];
  /** The first failure; the migrations after it are reported 'not run'. */
  error?: Igny8Error;
}

class DryRunRollback extends Error {}

/**
 * Applies every pending migration, each in its own transaction. With dryRun, all of them run
 * inside one transaction that is rolled back, so later migrations see the earlier ones.
 */
export async function migrateLatest(db: Database, options: RunOptions = {}): Promise<RunReport> {
  const files = listMigrationFiles(options.migrationsDir);
  return withMigrationLock(
    db,
    async () => {
      if (options.to !== undefined) requireKnownMigration(files, options.to);
      await refuseUnadoptedLegacy(db.knex);
      await ensureMigrationsTable(db.knex);
      const applied = await appliedMigrations(db.knex);
      let pending = files.filter((file) => !applied.has(file.name));
      if (options.to !== undefined) pending = pending.filter((file) => file.name <= options.to!);
      pending = await runOrder(pending, options.phase);
      await preflight(db, pending, options);
      return options.dryRun ? dryRun(db, pending, options) : applyEach(db, pending, options);
    },
    options.onWait,
  );
}

async function applyOne(
  db: Database,
  trx: Knex.Transaction,
  file: MigrationFile,
  options: RunOptions,
  notes: string[],
): Promise<void> {
  const migration = await loadMigration(file);
  await upInTransaction(db, trx, file, migration, options, notes);
  if (isBatched(migration)) {
    // Only a dry run gets here: it reports the batches' rows instead of running them.
    const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
    for (const backfill of migration.backfills ?? []) {
      const rows = Number((await trx.raw(backfill.remaining)).rows[0]?.count ?? 0);
      notes.push(`would touch ${plural(rows, `row of ${backfill.table}`, `rows of ${backfill.table}`)} in batches of ${size} (a dry run runs no batch)`);
    }
    for (const index of migration.concurrentIndexes ?? []) notes.push(`would build index ${index.name} concurrently`);
    if (migration.finish) notes.push('its last step follows the batches: not run in a dry run');
  }
  await options.beforeCommit?.(file.name, trx);
  await trx(MIGRATIONS_TABLE).insert(appliedRow(file));
}

async function upInTransaction(
  db: Database,
  trx: Knex.Transaction,
  file: MigrationFile,
  migration: Migration,
  options: RunOptions,
  notes: string[],
): Promise<void> {
  // Contract retires the legacy application: its views go first (they depend on what contract drops).
  if (phaseOf(migration) === 'contract') await dropLegacyViews(trx);
  await migration.up(contextFor(db, trx, options, notes));
}

interface Progress {
  step: number;
  last_id: string | null;
  rows: string;
}

async function readProgress(knex: Knex, name: string): Promise<Progress | undefined> {
  const exists = await knex.raw(`select to_regclass(?) is not null as present`, [PROGRESS_TABLE]);
  if (!exists.rows[0].present) return undefined;
  return (await knex(PROGRESS_TABLE).where({ name }).first()) as Progress | undefined;
}

/**
 * A batched migration: up() in its own transaction (recorded in igny8_migration_progress), each
 * backfill in batches of short transactions (the last id done recorded with each), the
 * concurrent indexes, then finish() with the record of the migration. A rerun after a kill
 * resumes from the progress recorded. The progress table exists only while one is unfinished.
 */
async function applyBatched(db: Database, file: MigrationFile, migration: Migration, options: RunOptions, notes: string[]): Promise<void> {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let progress = await readProgress(db.knex, file.name);
  if (progress) {
    notes.push(`resumed: ${plural(Number(progress.rows), 'row')} were done by an earlier run`);
  } else {
    await migrationTransaction(db, migration, options, notes, async (trx) => {
      await upInTransaction(db, trx, file, migration, options, notes);
      await options.beforeCommit?.(file.name, trx);
      await trx.raw(`create table if not exists ${PROGRESS_TABLE} (
        name varchar(255) primary key,
        step integer not null,
        last_id bigint null,
        rows bigint not null default 0,
        updated_at timestamptz not null default now()
      )`);
      await trx(PROGRESS_TABLE).insert({ name: file.name, step: 0, last_id: null, rows: 0 });
    });
    progress = { step: 0, last_id: null, rows: '0' };
  }
  const backfills = migration.backfills ?? [];
  for (let step = progress.step; step < backfills.length; step++) {
    const backfill = backfills[step];
    const range = (await db.knex.raw(`select min(id) as lo, max(id) as hi from ${backfill.table}`)).rows[0];
    if (range.hi === null) continue;
    const hi = Number(range.hi);
    let lo = step === progress.step && progress.last_id !== null ? Number(progress.last_id) : Number(range.lo);
    let touched = 0;
    let batches = 0;
    for (; lo <= hi; lo += size) {
      const next = lo + size;
      touched += await migrationTransaction(db, migration, options, notes, async (trx) => {
        const written = await trx.raw(`with changed as (${backfill.batch} returning 1) select count(*)::int as count from changed`, [lo, next]);
        const count = Number(written.rows[0].count);
        await trx(PROGRESS_TABLE).where({ name: file.name }).update({ last_id: next, rows: trx.raw('rows + ?', [count]), updated_at: trx.fn.now() });
        return count;
      });
      batches += 1;
    }
    await db.knex(PROGRESS_TABLE).where({ name: file.name }).update({ step: step + 1, last_id: null });
    notes.push(`${plural(touched, `row of ${backfill.table}`, `rows of ${backfill.table}`)} written in ${plural(batches, 'batch', 'batches')} of up to ${size}`);
  }
  for (const index of migration.concurrentIndexes ?? []) {
    const existing = await db.knex.raw(`select indisvalid as valid from pg_index where indexrelid = to_regclass(?)`, [index.name]);
    if (existing.rows[0]?.valid === true) continue;
    // A concurrent build a kill interrupted leaves an invalid index: it is dropped and built again.
    if (existing.rows.length > 0) await db.knex.raw(`drop index concurrently if exists ${index.name}`);
    await db.knex.raw(index.sql);
    notes.push(`index ${index.name} built concurrently (writes continued meanwhile)`);
  }
  const started = performance.now();
  await migrationTransaction(db, migration, options, notes, async (trx) => {
    await migration.finish?.(contextFor(db, trx, options, notes));
    await options.beforeCommit?.(file.name, trx);
    await trx(MIGRATIONS_TABLE).insert({ ...appliedRow(file), duration_ms: Math.round(performance.now() - started) });
    await trx(PROGRESS_TABLE).where({ name: file.name }).delete();
    const left = await trx(PROGRESS_TABLE).count<{ count: string }[]>({ count: '*' });
    if (Number(left[0].count) === 0) await trx.raw(`drop table ${PROGRESS_TABLE}`);
  });
}

function record(results: MigrationRunResult[], options: RunOptions, result: MigrationRunResult): void {
  results.push(result);
  options.onResult?.(result);
}

function recordAll(results: MigrationRunResult[], options: RunOptions, more: MigrationRunResult[]): void {
  for (const result of more) record(results, options, result);
}

function notRun(files: MigrationFile[]): MigrationRunResult[] {
  return files.map((file) => ({ name: file.name, status: 'not run' as const, durationMs: 0, notes: [] }));
}

async function applyEach(db: Database, pending: MigrationFile[], options: RunOptions): Promise<RunReport> {
  const results: MigrationRunResult[] = [];
  for (const [index, file] of pending.entries()) {
    options.onStart?.(file.name);
    const notes: string[] = [];
    const started = performance.now();
    try {
      const migration = await loadMigration(file);
      if (isBatched(migration)) {
        await applyBatched(db, file, migration, options, notes);
      } else {
        await migrationTransaction(db, migration, options, notes, async (trx) => {
          await applyOne(db, trx, file, options, notes);
          const durationMs = Math.round(performance.now() - started);
          await trx(MIGRATIONS_TABLE).where({ name: file.name }).update({ duration_ms: durationMs });
        });
      }
      record(results, options, { name: file.name, status: 'applied', durationMs: elapsed(started), notes });
    } catch (error) {
      const failure = classifyError(error);
      record(results, options, { name: file.name, status: 'failed', durationMs: elapsed(started), notes, error: failure });
      recordAll(results, options, notRun(pending.slice(index + 1)));
      return { results, error: failure };
    }
  }
  return { results };
}

async function dryRun(db: Database, pending: MigrationFile[], options: RunOptions): Promise<RunReport> {
  const results: MigrationRunResult[] = [];
  let failure: Igny8Error | undefined;
  try {
    await db.knex.transaction(async (trx) => {
      for (const [index, file] of pending.entries()) {
        options.onStart?.(file.name);
        const notes: string[] = [];
        const started = performance.now();
        try {
          await setTimeouts(trx, options);
          await applyOne(db, trx, file, options, notes);
          record(results, options, { name: file.name, status: 'rolled back', durationMs: elapsed(started), notes });
        } catch (error) {
          failure = classifyError(error);
          record(results, options, { name: file.name, status: 'failed', durationMs: elapsed(started), notes, error: failure });
          recordAll(results, options, notRun(pending.slice(index + 1)));
          break;
        }
      }
      throw new DryRunRollback();
    });
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
  }
  return { results, error: failure };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

export interface DownOptions extends RunOptions {
  /** Revert every migration after this one (it stays applied); default: only the last. */
  to?: string;
}

/** Reverts applied migrations, newest first; refuses up front if one of them cannot be undone. */
export async function migrateDown(db: Database, options: DownOptions = {}): Promise<RunReport> {
  const files = listMigrationFiles(options.migrationsDir);
  return withMigrationLock(
    db,
    async () => {
      const applied = await appliedMigrations(db.knex);
      // A batched migration a run stopped in has committed its DDL without being recorded:
      // reverting what precedes it would leave that DDL behind, unrecorded.
      if ((await db.knex.raw(`select to_regclass(?) is not null as present`, [PROGRESS_TABLE])).rows[0].present) {
        const unfinished = (await db.knex(PROGRESS_TABLE).select('name').orderBy('name')) as Array<{ name: string }>;
        if (unfinished.length > 0) {
          throw new DomainRefusal(`cannot revert while a batched migration is unfinished: ${unfinished.map((row) => row.name).join(', ')}`, {
            code: 'migration-in-progress',
            details: ['run `igny8 migrate` to finish it first (it resumes where it stopped), then revert; nothing was changed'],
          });
        }
      }
      // Newest last by when it was applied: expand and contract migrations interleave by number.
      const byName = new Map(files.map((file) => [file.name, file]));
      const appliedFiles = [...applied.keys()].filter((name) => byName.has(name)).map((name) => byName.get(name)!);
      const unknown = [...applied.keys()].filter((name) => !files.some((file) => file.name === name));
      if (unknown.length > 0) {
        throw new DomainRefusal(`applied migrations have no file here: ${unknown.join(', ')}`);
      }
      if (options.to !== undefined) requireKnownMigration(files, options.to);
      let targets: MigrationFile[];
      if (options.to !== undefined) {
        const index = appliedFiles.findIndex((file) => file.name === options.to);
        if (index < 0) {
          throw new DomainRefusal(`--to ${options.to}: no applied migration has that name`, {
            details: [`applied: ${appliedFiles.map((file) => file.name).join(', ') || 'none'}`],
          });
        }
        targets = appliedFiles.slice(index + 1).reverse();
      } else {
        targets = appliedFiles.slice(-1);
      }
      const loaded = await Promise.all(targets.map(async (file) => ({ file, migration: await loadMigration(file) })));
      const blocked = loaded.filter(({ migration }) => typeof migration.down !== 'function');
      if (blocked.length > 0) {
        throw new DomainRefusal('cannot revert: some migrations are irreversible; nothing was changed', {
          details: blocked.map(
            ({ file, migration }) => `${file.name}: ${migration.irreversible ?? 'no down migration'}`,
          ),
        });
      }
      const results: MigrationRunResult[] = [];
      for (const [index, { file, migration }] of loaded.entries()) {
        options.onStart?.(file.name);
        const notes: string[] = [];
        const started = performance.now();
        try {
          await db.knex.transaction(async (trx) => {
            await setTimeouts(trx, options);
            await migration.down!(contextFor(db, trx, options, notes));
            await trx(MIGRATIONS_TABLE).where({ name: file.name }).delete();
          });
          record(results, options, { name: file.name, status: 'reverted', durationMs: elapsed(started), notes });
        } catch (error) {
          const failure = classifyError(error);
          record(results, options, { name: file.name, status: 'failed', durationMs: elapsed(started), notes, error: failure });
          recordAll(results, options, notRun(loaded.slice(index + 1).map(({ file: rest }) => rest)));
          return { results, error: failure };
        }
      }
      return { results };
    },
    options.onWait,
  );
}

/** Records migrations as applied without running them (adopting an existing database). */
export async function markApplied(trx: Knex.Transaction, files: MigrationFile[]): Promise<void> {
  if (files.length === 0) return;
  await trx(MIGRATIONS_TABLE).insert(files.map(appliedRow));
}
