// What every command receives: the parsed global options, the output, and a database
// opened on first use and always closed by the error boundary in src/cli.ts.
import type { Command } from 'commander';
import type { Database } from '../db/connect.js';
import { Output } from '../io/output.js';

export interface GlobalOptions {
  databaseUrl?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
}

export interface DatabaseRequest {
  /**
   * The command only reads: an embedded database that does not exist is not created (the
   * command refuses, exit 3, instead of reporting on an empty database it just made).
   */
  readOnly?: boolean;
}

export class Runtime {
  readonly out: Output;
  /** Set by a command that succeeded but must report findings (exit 1). */
  exitCode = 0;
  private db: Promise<Database> | undefined;
  /** The open database, once it is open (the error boundary asks it who holds a lock). */
  opened: Database | undefined;
  /** What a command can say if it is interrupted (SIGINT, SIGTERM): what was done and what not. */
  interruptNote: (() => string[]) | undefined;

  constructor(
    readonly global: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
    readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  ) {
    this.out = new Output({ json: global.json, quiet: global.quiet, color: global.color, env });
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

export type Action<Options> = (options: Options, runtime: Runtime, args: string[]) => Promise<void>;

/** Ties a command's action to the runtime, so command files never touch commander internals. */
export function runWith<Options>(action: Action<Options>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received[received.length - 1] as Command;
    const args = received.slice(0, -2).filter((value): value is string => typeof value === 'string');
    const variadic = received.slice(0, -2).find(Array.isArray) as string[] | undefined;
    const global = command.optsWithGlobals() as GlobalOptions;
    const runtime = new Runtime(global);
    activeRuntime = runtime;
    await action(command.opts() as Options, runtime, variadic ?? args);
  };
}

/** The runtime of the command now running, for the error boundary to close and report. */
export let activeRuntime: Runtime | undefined;
