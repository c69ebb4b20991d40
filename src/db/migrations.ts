// The migration chain as files: what a migration module is, where the modules are, and the
// checksum that tells whether an applied migration was changed since.
//
// A checksum is taken over the migration module's own source text (src/migrations/*.ts, which
// the package ships), not over the compiled file: a compiler upgrade or a rebuild does not
// change it, and neither does a faster rule query the module imports. The algorithm carries a
// version, so rows written by an older igny8 (which hashed the compiled file) are reported as
// such instead of as drift.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { DatabaseKind } from './connect.js';

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

/**
 * When a migration may run against a database the legacy application is still using.
 * expand: additive only (new tables and columns, backfills in batches, constraints added NOT
 * VALID, triggers that keep new structures complete): the running application survives it.
 * contract: after the new application is deployed (validate, rename, set NOT NULL, drop).
 */
export type MigrationPhase = 'expand' | 'contract';

/** Postgres' table lock modes, weakest first (pg_locks names them AccessShareLock, ...). */
export const LOCK_MODES = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** pg_locks' name of a mode: 'ROW EXCLUSIVE' → 'RowExclusiveLock'. */
export function pgLockName(mode: LockMode): string {
  return `${mode.toLowerCase().replace(/(^|\s)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}Lock`;
}

/** A lock from SHARE up blocks INSERT, UPDATE and DELETE; only ACCESS EXCLUSIVE blocks SELECT. */
export function blocksWrites(mode: LockMode): boolean {
  return LOCK_MODES.indexOf(mode) >= LOCK_MODES.indexOf('SHARE');
}
export function blocksReads(mode: LockMode): boolean {
  return mode === 'ACCESS EXCLUSIVE';
}

/**
 * The strongest lock a migration's transaction takes on a table that existed before it (held
 * until the transaction ends), and what it does to the table's rows meanwhile: nothing but the
 * catalog (a brief lock), a scan of every row (a validation, an index build), writes to many
 * rows (a backfill), or a rewrite of the whole table. Checked against pg_locks by a test.
 */
export interface TableLock {
  /** The table's name when the migration starts. */
  table: string;
  mode: LockMode;
  work?: 'scan' | 'write' | 'rewrite';
  /** Why the work is short although the lock blocks writes (a catalog of tens of rows). */
  bounded?: string;
}

/**
 * A backfill run in batches of short transactions after up() has committed: resumable (the
 * last id done is recorded in igny8_migration_progress), so a big table is never written under
 * one long lock, and a killed run continues where it stopped.
 */
export interface Backfill {
  /** The table whose ids the batches walk (ids up to its max(id) when the backfill starts). */
  table: string;
  /** SQL returning `count`: the rows still to touch (what --dry-run and --plan report). */
  remaining: string;
  /** One batch: an INSERT/UPDATE over the ids in [?, ?) of `table` (two bindings). */
  batch: string;
}

/** An index built with CREATE INDEX CONCURRENTLY, outside any transaction, after the backfills. */
export interface ConcurrentIndex {
  name: string;
  /** CREATE [UNIQUE] INDEX CONCURRENTLY name ON ... */
  sql: string;
}

export interface Migration {
  /** One line saying what the migration does. */
  description: string;
  /** The rollout phase it belongs to; a migration that declares none is treated as contract. */
  phase?: MigrationPhase;
  /**
   * Needs no migration numbered after it, and none of them needs it: on a database migrated
   * before it existed it is pending, not a gap (`migrate validate` passes; the next run applies it).
   */
  independent?: boolean;
  /** The locks its transaction takes on existing tables (`migrate --plan` shows them). */
  locks?: TableLock[];
  /**
   * Refuses, before the run's first write, when the migration could not finish (a secret key
   * it will need is missing or malformed): a run never stops half-way for want of an input.
   */
  preflight?(ctx: PreflightContext): Promise<void>;
  up(ctx: MigrationContext): Promise<void>;
  /**
   * A batched migration: after up() commits, these run in batches (`migrate --dry-run` counts
   * their rows instead), then `concurrentIndexes`, then finish() in the transaction that records
   * the migration as applied.
   */
  backfills?: Backfill[];
  concurrentIndexes?: ConcurrentIndex[];
  finish?(ctx: MigrationContext): Promise<void>;
  /** Absent when the change cannot be undone; `irreversible` then says why. */
  down?(ctx: MigrationContext): Promise<void>;
  irreversible?: string;
}

/** A migration's phase: what it declares, else contract (the safe assumption for an undeclared one). */
export function phaseOf(migration: Pick<Migration, 'phase'>): MigrationPhase {
  return migration.phase ?? 'contract';
}

export function isBatched(migration: Migration): boolean {
  return (migration.backfills?.length ?? 0) > 0 || (migration.concurrentIndexes?.length ?? 0) > 0 || migration.finish !== undefined;
}

/** 1: sha256 of the compiled file (older igny8). 2: sha256 of the module's source text. */
export const CHECKSUM_ALGORITHM = 2;

export interface MigrationFile {
  name: string;
  /** The compiled module that runs. */
  file: string;
  /** sha256 of the module's source text. */
  checksum: string;
}

export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../migrations/', import.meta.url));
}

/** Where a compiled migrations directory's sources are: dist/migrations → src/migrations. */
function sourceDirOf(dir: string): string {
  return path.join(dir, '..', '..', 'src', 'migrations');
}

const MIGRATION_FILE = /^(\d{4}_[a-z0-9_-]+)\.(js|ts)$/i;

function checksumOf(file: string): string {
  const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  return createHash('sha256').update(text).digest('hex');
}

/** The migration files in order, each with the checksum of its source text. */
export function listMigrationFiles(dir = defaultMigrationsDir()): MigrationFile[] {
  const sources = sourceDirOf(dir);
  return readdirSync(dir)
    .filter((entry) => MIGRATION_FILE.test(entry) && !entry.endsWith('.d.ts'))
    .sort()
    .map((entry) => {
      const name = entry.match(MIGRATION_FILE)![1];
      const file = path.join(dir, entry);
      // Run from source (tests, tsx), the module is its own source; a compiled module's source
      // is shipped beside dist/; a directory of plain JavaScript migrations is its own source.
      const compiledFrom = path.join(sources, `${name}.ts`);
      const source = entry.endsWith('.ts') || !existsSync(compiledFrom) ? file : compiledFrom;
      return { name, file, checksum: checksumOf(source) };
    });
}

export async function loadMigration(file: MigrationFile): Promise<Migration> {
  const module = (await import(pathToFileURL(file.file).href)) as { default?: Migration };
  const migration = module.default;
  if (!migration || typeof migration.up !== 'function') {
    throw new Error(`${file.name}: the file has no default export with an up() function`);
  }
  return migration;
}
