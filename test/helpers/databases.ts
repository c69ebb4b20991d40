// Every database test runs on the embedded database (PGlite) and on a real server, looping
// over both. Each test file gets a throwaway database of its own, dropped afterwards.
// In CI (IGNY8_REQUIRE_SERVER=1) an unreachable server fails the suite instead of skipping.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { connect, type Database, type DatabaseKind } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { syncCatalog } from '../../src/domain/catalog.js';

export const SERVER_URL = process.env.IGNY8_TEST_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const serverRequired = process.env.IGNY8_REQUIRE_SERVER === '1' || process.env.CI === 'true';

async function probeServer(): Promise<boolean> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (error) {
    if (serverRequired) {
      throw new Error(`the PostgreSQL server at ${SERVER_URL} is unreachable and CI requires it`, { cause: error });
    }
    console.warn(
      `\n*** NOTICE: no PostgreSQL server at ${SERVER_URL}: the server half of the database tests is SKIPPED ***\n`,
    );
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const serverReachable = await probeServer();

export interface TestDatabase {
  kind: DatabaseKind;
  db: Database;
  /** For child processes: the server URL, or the embedded database's directory. */
  url?: string;
  dataDir?: string;
  /** Environment that points a child igny8 at this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function serverAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function serverUrlFor(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A new, empty database. On PGlite `onDisk` gives it a directory, so a child igny8 process
 * can open it after this process closes its handle.
 */
export async function createTestDatabase(
  kind: DatabaseKind,
  options: { onDisk?: boolean } = {},
): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const name = `igny8_test_${randomBytes(6).toString('hex')}`;
    await serverAdmin((client) => client.query(`create database ${name}`));
    return openServerTestDatabase(name);
  }
  return openEmbeddedTestDatabase(options);
}

/** Opens server database `name` (already created) as a test database that drop() removes. */
export async function openServerTestDatabase(name: string): Promise<TestDatabase> {
  const url = serverUrlFor(name);
  const db = await connect({ databaseUrl: url });
  return {
    kind: 'postgres',
    db,
    url,
    env: { DATABASE_URL: url },
    async drop() {
      await db.close();
      await serverAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** A new embedded test database, in memory or in a temporary directory, optionally from a dump. */
export async function openEmbeddedTestDatabase(
  options: { onDisk?: boolean; loadDataDir?: Blob } = {},
): Promise<TestDatabase> {
  if (options.onDisk) {
    const dir = mkdtempSync(path.join(tmpdir(), 'igny8-test-'));
    const dataDir = path.join(dir, 'db');
    const db = await connect({ dataDir, loadDataDir: options.loadDataDir });
    return {
      kind: 'pglite',
      db,
      dataDir,
      env: { IGNY8_DATA_DIR: dataDir },
      async drop() {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await connect({ memory: true, loadDataDir: options.loadDataDir });
  return { kind: 'pglite', db, env: {}, drop: () => db.close() };
}

export const DATABASE_KINDS: readonly DatabaseKind[] = ['pglite', 'postgres'];

/** The legacy shape (the baseline migration only) or the target shape, with the catalog synced. */
export async function prepareDatabase(db: Database, shape: 'legacy' | 'target'): Promise<void> {
  const run = await migrateLatest(db, shape === 'legacy' ? { to: '0001_legacy_baseline' } : {});
  if (run.error) throw run.error;
  await db.knex.transaction((trx) => syncCatalog(trx));
}

/**
 * Runs `work` on the test database from this process while child processes use it too:
 * the embedded database admits one process at a time, so it is opened from its directory
 * for `work` and closed again.
 */
export async function withTestDatabase<T>(t: TestDatabase, work: (db: Database) => Promise<T>): Promise<T> {
  if (t.kind === 'postgres') return work(t.db);
  const db = await connect({ dataDir: t.dataDir });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export interface DatabaseFixture {
  readonly kind: DatabaseKind;
  /** The open test database; valid inside tests and hooks of the describe block. */
  readonly t: TestDatabase;
  readonly db: Database;
}

/**
 * Declares `body` once per database kind, each with a fresh database for the whole block
 * (PGlite takes seconds to start, so tests share it and isolate their own rows).
 */
export function describeEachDatabase(
  name: string,
  body: (fixture: DatabaseFixture) => void,
  options: {
    onDisk?: boolean;
    /** Start from a database with every migration applied and the catalog synced. */
    migrated?: boolean;
    setup?: (t: TestDatabase) => Promise<void>;
  } = {},
): void {
  for (const kind of DATABASE_KINDS) {
    const skip = kind === 'postgres' && !serverReachable;
    describe.skipIf(skip)(`${name} [${kind}]`, () => {
      let current: TestDatabase | undefined;
      const fixture: DatabaseFixture = {
        kind,
        get t() {
          if (!current) throw new Error('the test database is not open yet');
          return current;
        },
        get db() {
          return fixture.t.db;
        },
      };
      beforeAll(async () => {
        current = options.migrated
          ? await (await import('./templates.js')).createMigratedDatabase(kind, { onDisk: options.onDisk })
          : await createTestDatabase(kind, { onDisk: options.onDisk });
        await options.setup?.(current);
      });
      afterAll(async () => {
        await current?.drop();
      });
      body(fixture);
    });
  }
}

/** Only on the server: behaviour that needs concurrent connections. */
export const describeOnServer = describe.skipIf(!serverReachable);
