// What every command receives: the parsed global options, the output, and a database
// opened on first use. main() in src/cli.ts creates the one runtime of a process, and closes
// it (with its database) whatever happens; an action returns its exit code.
import type { Command } from 'commander';
import type { Database } from '../db/connect.js';
import { Output } from '../io/output.js';

export interface GlobalOptions {
  databaseUrl?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  verbose?: boolean;
}

export interface DatabaseRequest {
  /**
   * The command only reads: an embedded database that does not exist is not created (the
   * command refuses, exit 3, instead of reporting on an empty database it just made).
   */
  readOnly?: boolean;
}

/**
 * Writes each statement's time and its first line (never its bound values, which may be
 * secrets) as it completes.
 */
function traceStatements(db: Database, write: (line: string) => void): void {
  const started = new Map<string, number>();
  db.knex.on('query', (query: { __knexQueryUid?: string }) => {
    if (query.__knexQueryUid) started.set(query.__knexQueryUid, performance.now());
  });
  const done = (query: { __knexQueryUid?: string; sql?: string }, outcome: string) => {
    const at = query.__knexQueryUid ? started.get(query.__knexQueryUid) : undefined;
    if (at === undefined) return;
    started.delete(query.__knexQueryUid!);
    const sql = (query.sql ?? '').replace(/\s+/g, ' ').trim();
    write(`sql ${Math.round(performance.now() - at)} ms${outcome}: ${sql.length > 120 ? `${sql.slice(0, 119)}…` : sql}`);
  };
  db.knex.on('query-response', (_response: unknown, query: { __knexQueryUid?: string; sql?: string }) => done(query, ''));
  db.knex.on('query-error', (_error: unknown, query: { __knexQueryUid?: string; sql?: string }) => done(query, ' (failed)'));
}

export class Runtime {
  out: Output;
  global: GlobalOptions = {};
  private db: Promise<Database> | undefined;
  /** The open database, once it is open (the error boundary asks it who holds a lock). */
  opened: Database | undefined;
  /** The exit code the action returned. */
  exitCode = 0;
  /** What a command can say if it is interrupted (SIGINT, SIGTERM): what was done and what not. */
  interruptNote: (() => string[]) | undefined;

  constructor(
    readonly env: NodeJS.ProcessEnv = process.env,
    readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
    argv: readonly string[] = [],
  ) {
    // Until the options are parsed, only --no-color can be read, from the arguments themselves.
    this.out = new Output({ color: argv.includes('--no-color') ? false : undefined, env });
  }

  /** --verbose or IGNY8_DEBUG: every SQL statement's time, and each check's, on stderr. */
  get verbose(): boolean {
    return this.global.verbose === true || Boolean(this.env.IGNY8_DEBUG);
  }

  /** The global options, once commander has parsed them (before the action runs). */
  configure(global: GlobalOptions): void {
    this.global = global;
    this.out = new Output({ json: global.json, quiet: global.quiet, color: global.color, env: this.env });
  }

  /**
   * The database the options and environment name (as psql chooses: --database-url, then
   * DATABASE_URL, then PGHOST/PGDATABASE/PGSERVICE, then the embedded one). Says which on
   * stderr, and --json documents carry it as `database`.
   */
  database(request: DatabaseRequest = {}): Promise<Database> {
    this.db ??= this.open(request);
    return this.db;
  }

  private async open(request: DatabaseRequest): Promise<Database> {
    const [{ connect }, { resolveDatabaseTarget }] = await Promise.all([
      import('../db/connect.js'),
      import('../db/connection-string.js'),
    ]);
    const target = resolveDatabaseTarget({ flag: this.global.databaseUrl, env: this.env });
    if (target.kind === 'server') for (const warning of target.warnings) this.out.warn(warning);
    const db = await connect({
      server: target.kind === 'server' ? target : undefined,
      mustExist: request.readOnly,
      env: this.env,
      onLockWait: (message) => this.out.info(message),
    });
    this.opened = db;
    if (this.verbose) traceStatements(db, (line) => this.out.info(line));
    this.out.info(`database: ${db.label}`);
    this.out.setDocumentContext({ database: db.where });
    return db;
  }

  /**
   * Ends the work in progress after a signal. On a server, the open transaction is rolled
   * back by the server when the process's connections close; the embedded database is in
   * this process, so it is rolled back and closed here, and its files are left consistent.
   */
  async abort(): Promise<void> {
    const db = this.opened;
    this.db = undefined;
    this.opened = undefined;
    await db?.abort();
  }

  async close(): Promise<void> {
    if (!this.db) return;
    const pending = this.db;
    this.db = undefined;
    this.opened = undefined;
    const db = await pending.catch(() => undefined);
    await db?.close();
  }
}

/** A command's action: it returns its exit code (findings are exit 1; nothing returned is 0). */
export type Action<Options> = (options: Options, runtime: Runtime, args: string[]) => Promise<number | void>;

const runtimes = new WeakMap<Command, Runtime>();

/** Gives a program its runtime: every action of its commands receives it. */
export function attachRuntime(program: Command, runtime: Runtime): void {
  runtimes.set(program, runtime);
}

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

/** Ties a command's action to the runtime, so command files never touch commander internals. */
export function runWith<Options>(action: Action<Options>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received[received.length - 1] as Command;
    const args = received.slice(0, -2).filter((value): value is string => typeof value === 'string');
    const variadic = received.slice(0, -2).find(Array.isArray) as string[] | undefined;
    const runtime = runtimes.get(rootOf(command));
    if (!runtime) throw new Error('the program has no runtime: attachRuntime() first');
    runtime.configure(command.optsWithGlobals() as GlobalOptions);
    runtime.exitCode = (await action(command.opts() as Options, runtime, variadic ?? args)) ?? 0;
  };
}
