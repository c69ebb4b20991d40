// The one place that creates a database handle. Dialect differences between a real server
// (pg) and the embedded database (PGlite) are settled here, once: the same types come back
// from both (int8 and count() as numbers, numeric as exact strings, date as 'YYYY-MM-DD'),
// and callers see capabilities, never a dialect switch.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { PGlite } from '@electric-sql/pglite';
import { classifyError, DatabaseUnavailable } from '../errors.js';
import { redactUrl, registerSecret } from '../secrets.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { newPglite } from './embedded.js';

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database {
  readonly knex: Knex;
  readonly kind: DatabaseKind;
  /** Where the data lives, fit for printing (no password). */
  readonly label: string;
  /** The embedded database's directory; undefined on a server or in memory. */
  readonly dataDir: string | undefined;
  /** True when several connections can work at once; PGlite has exactly one. */
  readonly concurrent: boolean;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** A postgres:// URL; without it the embedded database is used. */
  databaseUrl?: string;
  /** The embedded database's directory (default ./.igny8/db, or $IGNY8_DATA_DIR). */
  dataDir?: string;
  /** An embedded database held in memory only (tests, demos). */
  memory?: boolean;
  /** An already-open PGlite instance. */
  pglite?: PGlite;
  /** A new embedded database starts as a copy of this dump of another (`dumpDataDir`). */
  loadDataDir?: Blob;
  /** Pool size on a server. */
  poolMax?: number;
  /** Told once when another process holds the embedded database and this one waits. */
  onLockWait?: (message: string) => void;
}

// knex logs connection errors and warnings itself; igny8 reports errors once, through the
// error boundary, where secrets are scrubbed.
const SILENT_LOG = { warn() {}, error() {}, deprecate() {}, debug() {} };

const OID = { int8: 20, numeric: 1700, date: 1082 } as const;

function parseInt8(value: string): number {
  return Number(value);
}
const keepText = (value: string): string => value;

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.IGNY8_DATA_DIR ? path.resolve(env.IGNY8_DATA_DIR) : path.resolve('.igny8', 'db');
}

export async function connect(options: ConnectOptions = {}): Promise<Database> {
  if (options.databaseUrl) return connectServer(options.databaseUrl, options.poolMax ?? 10);
  return connectEmbedded(options);
}

async function connectServer(url: string, poolMax: number): Promise<Database> {
  try {
    registerSecret(new URL(url).password ? decodeURIComponent(new URL(url).password) : undefined);
  } catch {
    throw new DatabaseUnavailable(`database URL is not a valid URL: ${redactUrl(url)}`);
  }
  const [{ default: knexFactory }, { default: pg }] = await Promise.all([
    import('knex'),
    import('pg'),
  ]);
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === OID.int8) return parseInt8;
      if (oid === OID.numeric || oid === OID.date) return keepText;
      return pg.types.getTypeParser(oid, format);
    },
  };
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, types, connectionTimeoutMillis: 10_000 } as Knex.PgConnectionConfig,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 15_000,
    log: SILENT_LOG,
  });
  const label = redactUrl(url);
  try {
    await knex.raw('select 1');
  } catch (error) {
    await knex.destroy().catch(() => undefined);
    const classified = classifyError(error);
    if (classified instanceof DatabaseUnavailable) {
      throw new DatabaseUnavailable(`cannot connect to ${label}: ${classified.message}`, {
        cause: error,
      });
    }
    throw classified;
  }
  return {
    knex,
    kind: 'postgres',
    label,
    dataDir: undefined,
    concurrent: true,
    close: () => knex.destroy(),
  };
}

async function connectEmbedded(options: ConnectOptions): Promise<Database> {
  const [{ default: knexFactory }, { default: ClientPgLite }] = await Promise.all([import('knex'), import('knex-pglite')]);
  const parsers = { [OID.int8]: parseInt8, [OID.numeric]: keepText, [OID.date]: keepText };
  let lock: DataDirLock | undefined;
  let dataDir: string | undefined;
  let pglite = options.pglite;
  if (!pglite) {
    if (options.memory) {
      pglite = await newPglite(undefined, { parsers, loadDataDir: options.loadDataDir });
    } else {
      dataDir = options.dataDir ?? defaultDataDir();
      mkdirSync(dataDir, { recursive: true });
      // PGlite is a single process' database: two processes on one directory corrupt it.
      lock = await acquireDataDirLock(dataDir, { onWait: options.onLockWait });
      try {
        pglite = await newPglite(dataDir, { parsers, loadDataDir: options.loadDataDir });
        await pglite.waitReady;
      } catch (error) {
        lock.release();
        throw new DatabaseUnavailable(`cannot open the embedded database in ${dataDir}`, {
          cause: error,
        });
      }
    }
  }
  const knex = knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    connection: { pglite } as unknown as Knex.StaticConnectionConfig,
    log: SILENT_LOG,
  });
  return {
    knex,
    kind: 'pglite',
    label: dataDir ? `embedded database in ${dataDir}` : 'embedded database in memory',
    dataDir,
    concurrent: false,
    async close() {
      try {
        await knex.destroy();
      } finally {
        lock?.release();
      }
    },
  };
}
