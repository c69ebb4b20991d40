// A thin migration runner over knex: one transaction per migration, results per migration,
// a checksum per applied file, an advisory lock around every run, and timeouts set inside
// each migration's transaction so a migration never waits forever behind a lock.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Database, DatabaseKind } from './connect.js';
import { withAdvisoryLock } from './lock.js';
import { classifyError, DomainRefusal, ValidationError, type Igny8Error } from '../errors.js';

export const MIGRATIONS_TABLE = 'igny8_migrations';
const LOCK_NAME = 'igny8.migrate';

export interface MigrationContext {
  trx: Knex.Transaction;
  kind: DatabaseKind;
  /** The embedded database's directory, where generated files (the secret key) live. */
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
  /** True in `migrate --dry-run`: everything is rolled back, and nothing outside the database may change. */
  dryRun: boolean;
  /** Lines for the report: what the migration changed (rows moved, values carried). */
  note(line: string): void;
}

/** What a migration may read before any migration of the run writes anything. */
export interface PreflightContext {
  knex: Knex;
  kind: DatabaseKind;
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
  dryRun: boolean;
}

export interface Migration {
  /** One line saying what the migration does. */
  description: string;
  /**
   * Refuses, before the run's first write, when the migration could not finish (a secret key
   * it will need is missing or malformed): a run never stops half-way for want of an input.
   */
  preflight?(ctx: PreflightContext): Promise<void>;
  up(ctx: MigrationContext): Promise<void>;
  /** Absent when the change cannot be undone; `irreversible` then says why. */
  down?(ctx: MigrationContext): Promise<void>;
  irreversible?: string;
}

export interface MigrationFile {
  name: string;
  file: string;
  checksum: string;
}

export type MigrationState = 'applied' | 'pending';

export interface MigrationStatusRow {
  name: string;
  state: MigrationState;
  appliedAt: Date | null;
  /** The file's checksum now; null when an applied migration has no file any more. */
  checksum: string | null;
  /** The checksum recorded when it was applied. */
  appliedChecksum: string | null;
  changed: boolean;
  missingFile: boolean;
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
}

export const DEFAULT_LOCK_TIMEOUT = '10s';
export const DEFAULT_STATEMENT_TIMEOUT = '15min';

export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../migrations/', import.meta.url));
}

const MIGRATION_FILE = /^(\d{4}_[a-z0-9_-]+)\.(js|ts)$/i;

/** The migration files in order, with the checksum of each file's text. */
export function listMigrationFiles(dir = defaultMigrationsDir()): MigrationFile[] {
  return readdirSync(dir)
    .filter((entry) => MIGRATION_FILE.test(entry) && !entry.endsWith('.d.ts'))
    .sort()
    .map((entry) => {
      const file = path.join(dir, entry);
      const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
      return {
        name: entry.match(MIGRATION_FILE)![1],
        file,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

async function loadMigration(file: MigrationFile): Promise<Migration> {
  const module = (await import(pathToFileURL(file.file).href)) as { default?: Migration };
  const migration = module.default;
  if (!migration || typeof migration.up !== 'function') {
    throw new Error(`${file.name}: the file has no default export with an up() function`);
  }
  return migration;
}

export async function ensureMigrationsTable(knex: Knex | Knex.Transaction): Promise<void> {
  await knex.raw(`create table if not exists ${MIGRATIONS_TABLE} (
    name varchar(255) primary key,
    checksum char(64) not null,
    applied_at timestamptz not null default now(),
    duration_ms integer not null default 0
  )`);
}

interface AppliedRow {
  name: string;
  checksum: string;
  applied_at: Date;
}

async function appliedMigrations(knex: Knex | Knex.Transaction): Promise<Map<string, AppliedRow>> {
  const exists = await knex.raw(`select to_regclass(?) is not null as present`, [MIGRATIONS_TABLE]);
  if (!exists.rows[0].present) return new Map();
  const rows: AppliedRow[] = await knex(MIGRATIONS_TABLE)
    .select('name', 'checksum', 'applied_at')
    .orderBy('name');
  return new Map(rows.map((row) => [row.name, row]));
}

export async function migrationStatus(
  db: Database,
  migrationsDir?: string,
): Promise<MigrationStatusRow[]> {
  const files = listMigrationFiles(migrationsDir);
  await refuseUnadoptedLegacy(db.knex);
  const applied = await appliedMigrations(db.knex);
  const rows: MigrationStatusRow[] = files.map((file) => {
    const row = applied.get(file.name);
    return {
      name: file.name,
      state: row ? 'applied' : 'pending',
      appliedAt: row?.applied_at ?? null,
      checksum: file.checksum,
      appliedChecksum: row?.checksum.trim() ?? null,
      changed: row !== undefined && row.checksum.trim() !== file.checksum,
      missingFile: false,
    };
  });
  for (const [name, row] of applied) {
    if (files.some((file) => file.name === name)) continue;
    rows.push({
      name,
      state: 'applied',
      appliedAt: row.applied_at,
      checksum: null,
      appliedChecksum: row.checksum.trim(),
      changed: false,
      missingFile: true,
    });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

function requireKnownMigration(files: MigrationFile[], name: string): void {
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

async function setTimeouts(trx: Knex.Transaction, options: RunOptions): Promise<void> {
  // set_config(..., true) is SET LOCAL: the values end with the transaction.
  await trx.raw(`select set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true)`, [
    options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT,
    options.statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT,
  ]);
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
  return withAdvisoryLock(
    db,
    LOCK_NAME,
    async () => {
      if (options.to !== undefined) requireKnownMigration(files, options.to);
      await refuseUnadoptedLegacy(db.knex);
      await ensureMigrationsTable(db.knex);
      const applied = await appliedMigrations(db.knex);
      let pending = files.filter((file) => !applied.has(file.name));
      if (options.to !== undefined) pending = pending.filter((file) => file.name <= options.to!);
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
  await setTimeouts(trx, options);
  await migration.up(contextFor(db, trx, options, notes));
  await trx(MIGRATIONS_TABLE).insert({ name: file.name, checksum: file.checksum });
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
      await db.knex.transaction(async (trx) => {
        await applyOne(db, trx, file, options, notes);
        const durationMs = Math.round(performance.now() - started);
        await trx(MIGRATIONS_TABLE).where({ name: file.name }).update({ duration_ms: durationMs });
      });
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
  return withAdvisoryLock(
    db,
    LOCK_NAME,
    async () => {
      const applied = await appliedMigrations(db.knex);
      const appliedFiles = files.filter((file) => applied.has(file.name));
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
  await trx(MIGRATIONS_TABLE).insert(files.map((file) => ({ name: file.name, checksum: file.checksum })));
}

export async function withMigrationLock<T>(db: Database, work: () => Promise<T>, onWait?: () => void) {
  return withAdvisoryLock(db, LOCK_NAME, work, onWait);
}
