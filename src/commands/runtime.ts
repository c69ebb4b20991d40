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

export class Runtime {
  readonly out: Output;
  /** Set by a command that succeeded but must report findings (exit 1). */
  exitCode = 0;
  private db: Promise<Database> | undefined;

  constructor(
    readonly global: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
    readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  ) {
    this.out = new Output({ json: global.json, quiet: global.quiet, color: global.color, env });
  }

  /** The database named by --database-url / DATABASE_URL, or the embedded one. */
  database(): Promise<Database> {
    this.db ??= import('../db/connect.js').then(({ connect }) =>
      connect({
        databaseUrl: this.global.databaseUrl ?? (this.env.DATABASE_URL || undefined),
        onLockWait: (message) => this.out.info(message),
      }),
    );
    return this.db;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    const pending = this.db;
    this.db = undefined;
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
