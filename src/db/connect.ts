// The one place that creates a database handle. Dialect differences between a real server
// (pg) and the embedded database (PGlite) are settled here, once: the same types come back
// from both (int8 and count() as numbers, numeric as exact strings, date as 'YYYY-MM-DD'),
// and callers see capabilities, never a dialect switch.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Knex } from 'knex';
import type { PGlite } from '@electric-sql/pglite';
import { classifyError, DatabaseUnavailable, DomainRefusal, ValidationError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import {
  completeServerTarget,
  describeServer,
  parseConnectionString,
  type ServerTarget,
} from './connection-string.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { newPglite } from './embedded.js';

export type DatabaseKind = 'postgres' | 'pglite';

/** Which database a handle works on, fit for printing and for --json documents (no password). */
export type DatabaseWhere =
  | { kind: 'postgres'; host: string; port: number; database: string; user: string }
  | { kind: 'embedded'; directory: string | null };

export interface Database {
  readonly knex: Knex;
  readonly kind: DatabaseKind;
  /** Where the data lives, fit for printing (no password). */
  readonly label: string;
  readonly where: DatabaseWhere;
  /** The embedded database's directory; undefined on a server or in memory. */
  readonly dataDir: string | undefined;
  /** True when several connections can work at once; PGlite has exactly one. */
  readonly concurrent: boolean;
  close(): Promise<void>;
  /**
   * After a signal, just before the process exits: nothing open may commit. A server rolls
   * back a transaction whose connection closes, so there is nothing to do; the embedded
   * database lives in this process and is rolled back and closed here.
   */
  abort(): Promise<void>;
}

export interface ConnectOptions {
  /** A server: a postgres:// URL or a libpq key=value string, completed from the PG* variables. */
  databaseUrl?: string;
  /** A server already resolved (`resolveDatabaseTarget`). */
  server?: ServerTarget;
  /** The embedded database's directory (default ./.igny8/db, or $IGNY8_DATA_DIR). */
  dataDir?: string;
  /** An embedded database held in memory only (tests, demos). */
  memory?: boolean;
  /** Refuse instead of creating an embedded database that does not exist (read-only commands). */
  mustExist?: boolean;
  /** An already-open PGlite instance. */
  pglite?: PGlite;
  /** A new embedded database starts as a copy of this dump of another (`dumpDataDir`). */
  loadDataDir?: Blob;
  /** Pool size on a server. */
  poolMax?: number;
  /** Told once when another process holds the embedded database and this one waits. */
  onLockWait?: (message: string) => void;
  /** The environment the PG* variables and files are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
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

/**
 * Why a data directory cannot be written, when the file system can tell: opening the embedded
 * database writes to it (PGlite itself only says it failed to start).
 */
function whyNotWritable(dataDir: string): string | undefined {
  const place = existsSync(dataDir) ? dataDir : path.dirname(dataDir);
  try {
    accessSync(place, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'it is on a read-only file system';
    if (code === 'EACCES' || code === 'EPERM') return 'this user may not write to it';
  }
  try {
    const space = statfsSync(place);
    if (space.bavail * space.bsize < 1024 * 1024) return 'the file system holding it is full';
  } catch {
    // No answer from the file system: the caller reports the original error.
  }
  return undefined;
}

/** True when an embedded database has been created in `dataDir`. */
export function embeddedDatabaseExists(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

export async function connect(options: ConnectOptions = {}): Promise<Database> {
  if (options.server) return connectServer(options.server, options.poolMax ?? 10, options.env);
  if (options.databaseUrl !== undefined) {
    const target = completeServerTarget(parseConnectionString(options.databaseUrl), '--database-url', {
      env: options.env,
    });
    return connectServer(target, options.poolMax ?? 10, options.env);
  }
  return connectEmbedded(options);
}

/**
 * knex prefixes a failed query's message with its SQL. The SQL is kept apart (err.sql) for
 * debugging, and the message is Postgres' own again: a permission error names the table, not
 * a page of SQL. compileSqlOnError is off so that bound values (hashes, secrets) never enter
 * a message at all.
 */
function keepPostgresMessages(knex: Knex): void {
  knex.on('query-error', (error: unknown, query: { sql?: string }) => {
    if (!(error instanceof Error) || typeof query?.sql !== 'string') return;
    const prefix = `${query.sql} - `;
    if (error.message.startsWith(prefix)) error.message = error.message.slice(prefix.length);
    (error as Error & { sql?: string }).sql = query.sql;
  });
}

// ---------------------------------------------------------------------------------------------
// A server

/** The TLS settings to try in order, with libpq's meaning of each sslmode. */
function tlsAttempts(target: ServerTarget, home: string): Array<false | TlsOptions> {
  // libpq never uses TLS on a Unix socket, whatever sslmode says.
  if (target.socket || target.sslmode === 'disable') return [false];
  const defaultRoot = path.join(home, '.postgresql', 'root.crt');
  const rootFile = target.sslrootcert ?? (existsSync(defaultRoot) ? defaultRoot : undefined);
  const base: TlsOptions = {};
  const certFile = target.sslcert ?? path.join(home, '.postgresql', 'postgresql.crt');
  const keyFile = target.sslkey ?? path.join(home, '.postgresql', 'postgresql.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    base.cert = readFileSync(certFile, 'utf8');
    base.key = readFileSync(keyFile, 'utf8');
  }
  const encryptOnly: TlsOptions = { ...base, rejectUnauthorized: false };
  const readRoot = (): TlsOptions => {
    if (rootFile === 'system') return { ...base, rejectUnauthorized: true };
    if (!rootFile) {
      throw new ValidationError(
        'sslrootcert',
        `sslmode=${target.sslmode} verifies the server's certificate, and there is no root certificate: ${defaultRoot} does not exist (set sslrootcert=FILE, or sslrootcert=system for the system's trusted roots)`,
      );
    }
    return { ...base, ca: readFileSync(rootFile, 'utf8'), rejectUnauthorized: true };
  };
  // verify-ca checks the chain only; verify-full also checks the host name (Node's default).
  const verifyCa = (): TlsOptions => ({ ...readRoot(), checkServerIdentity: () => undefined });
  switch (target.sslmode) {
    case 'allow':
      return [false, encryptOnly];
    case 'prefer':
      return [encryptOnly, false];
    case 'require':
      // libpq: with a root certificate file present, require verifies as verify-ca does.
      return [rootFile ? verifyCa() : encryptOnly];
    case 'verify-ca':
      return [verifyCa()];
    case 'verify-full':
      return [readRoot()];
  }
}

const NO_TLS_ON_SERVER = /does not support SSL/i;
const TLS_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** Should the next TLS setting be tried after this failure (prefer → plain, allow → TLS)? */
function fallsBack(error: unknown, tried: false | TlsOptions): boolean {
  const message = error instanceof Error ? error.message : '';
  if (tried !== false) return NO_TLS_ON_SERVER.test(message);
  // allow: the server refused a plain connection; pg_hba may require hostssl.
  return /no encryption|SSL off/i.test(message);
}

function connectionFailure(error: unknown, target: ServerTarget, label: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (NO_TLS_ON_SERVER.test(message)) {
    return new DatabaseUnavailable(`cannot connect to ${label}: the server does not accept TLS, and sslmode=${target.sslmode} requires it`, {
      cause: error,
      details: ['hint: sslmode=prefer uses TLS when the server offers it; sslmode=disable never does'],
    });
  }
  if (TLS_CERT_CODES.has(code)) {
    return new DatabaseUnavailable(`cannot connect to ${label}: the server's certificate failed verification (sslmode=${target.sslmode}): ${message}`, {
      cause: error,
      details: [
        target.sslmode === 'verify-full'
          ? 'hint: sslrootcert must name the CA that signed the server certificate, and the host must match the certificate'
          : 'hint: sslrootcert must name the CA that signed the server certificate',
      ],
    });
  }
  const classified = classifyError(error);
  if (classified instanceof DatabaseUnavailable) {
    return new DatabaseUnavailable(`cannot connect to ${label}: ${classified.message}`, { cause: error, details: classified.details });
  }
  return classified;
}

async function connectServer(target: ServerTarget, poolMax: number, env: NodeJS.ProcessEnv = process.env): Promise<Database> {
  registerSecret(target.password, [target.user, target.host, target.database]);
  const [{ default: knexFactory }, { default: pg }] = await Promise.all([import('knex'), import('pg')]);
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === OID.int8) return parseInt8;
      if (oid === OID.numeric || oid === OID.date) return keepText;
      return pg.types.getTypeParser(oid, format);
    },
  };
  const label = describeServer(target);
  const home = env.HOME ?? homedir();
  const attempts = tlsAttempts(target, home);
  for (const [index, ssl] of attempts.entries()) {
    const connection: Knex.PgConnectionConfig = {
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      ssl,
      application_name: target.applicationName,
      options: target.options,
      types,
      connectionTimeoutMillis: (target.connectTimeoutSeconds ?? 10) * 1000,
    } as Knex.PgConnectionConfig;
    const knex = knexFactory({
      client: 'pg',
      connection,
      pool: { min: 0, max: poolMax },
      acquireConnectionTimeout: 15_000,
      compileSqlOnError: false,
      log: SILENT_LOG,
    });
    try {
      await knex.raw('select 1');
    } catch (error) {
      await knex.destroy().catch(() => undefined);
      if (index < attempts.length - 1 && fallsBack(error, ssl)) continue;
      throw connectionFailure(error, target, label);
    }
    keepPostgresMessages(knex);
    return {
      knex,
      kind: 'postgres',
      label,
      where: { kind: 'postgres', host: target.host, port: target.port, database: target.database, user: target.user },
      dataDir: undefined,
      concurrent: true,
      close: () => knex.destroy(),
      abort: async () => undefined,
    };
  }
  throw new Error('unreachable: no TLS setting was tried');
}

// ---------------------------------------------------------------------------------------------
// The embedded database

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
      dataDir = options.dataDir ?? defaultDataDir(options.env);
      if (options.mustExist && !embeddedDatabaseExists(dataDir)) {
        throw new DomainRefusal(`there is no embedded database in ${dataDir}: nothing to read`, {
          code: 'no-database',
          details: [
            'hint: `igny8 migrate` creates it there; for a server, give --database-url or DATABASE_URL (or PGHOST/PGDATABASE)',
          ],
        });
      }
      try {
        mkdirSync(dataDir, { recursive: true });
        // PGlite is a single process' database: two processes on one directory corrupt it.
        lock = await acquireDataDirLock(dataDir, { onWait: options.onLockWait });
        pglite = await newPglite(dataDir, { parsers, loadDataDir: options.loadDataDir });
        await pglite.waitReady;
      } catch (error) {
        lock?.release();
        if (error instanceof DatabaseUnavailable) throw error;
        throw new DatabaseUnavailable(`cannot open the embedded database in ${dataDir}: ${whyNotWritable(dataDir) ?? (error as Error).message}`, {
          cause: error,
        });
      }
    }
  }
  const knex = knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    connection: { pglite } as unknown as Knex.StaticConnectionConfig,
    compileSqlOnError: false,
    log: SILENT_LOG,
  });
  keepPostgresMessages(knex);
  return {
    knex,
    kind: 'pglite',
    label: dataDir ? `embedded database in ${dataDir}` : 'embedded database in memory',
    where: { kind: 'embedded', directory: dataDir ?? null },
    dataDir,
    concurrent: false,
    async close() {
      try {
        await knex.destroy();
      } finally {
        lock?.release();
      }
    },
    async abort() {
      const instance = pglite!;
      const query = instance.query.bind(instance);
      // From here on no statement of the interrupted work reaches the database: one issued
      // after the rollback would run outside the transaction and commit on its own.
      instance.query = (() => new Promise(() => undefined)) as typeof instance.query;
      try {
        await query('rollback').catch(() => undefined);
        await instance.close().catch(() => undefined);
      } finally {
        lock?.release();
      }
    },
  };
}
