// The command line: registers every command, and is the one error boundary that maps the
// error model to exit codes and prints one clear line (plus details) per failure.
import { Command, CommanderError } from 'commander';
import { classifyError, ExitCode, InternalError, LockTimeout } from './errors.js';
import { helpConfiguration, helpFooter } from './io/help.js';
import { attachRuntime, Runtime } from './commands/runtime.js';
import { scrubSecrets } from './secrets.js';
import { registerCommands } from './commands/index.js';
import { igny8Version } from './version.js';

const EXIT_CODES = `
Exit codes:
  0   success; audit clean below --fail-on
  1   audit findings at or above --fail-on
  2   bad usage or invalid input (the message names the field)
  3   refused by a domain rule (email taken, limit reached, precondition failed)
  4   database unreachable, connection lost, or permission denied
  70  internal error
  130 interrupted (SIGINT), 143 stopped (SIGTERM): the open transaction rolled back

Database, the first that applies: --database-url (-d; a URL or a key=value string), DATABASE_URL, a server named by PGHOST, PGHOSTADDR, PGDATABASE or PGSERVICE (the other PG* variables and ~/.pgpass fill in the rest, as for psql), else the embedded database in ./.igny8/db (IGNY8_DATA_DIR moves it).

Environment:
  NO_COLOR=1       no colour (--no-color too; either wins over FORCE_COLOR)
  FORCE_COLOR=1    colour even when the output is not a terminal (0: none)
  COLUMNS=N        table width when the output is not a terminal (default: 100)
  IGNY8_SECRET_KEY the key that encrypts stored credentials (or IGNY8_SECRET_KEY_FILE)
  IGNY8_DEBUG=1    as --verbose, plus the stack of an internal error (exit 70)`;

export async function buildProgram(args: readonly string[], runtime: Runtime): Promise<Command> {
  const program = new Command('igny8')
    .description('Migrate, operate, audit and repair the igny8 tenant and billing database.')
    .version(igny8Version(), '-V, --version')
    .option('-d, --database-url <url>', 'PostgreSQL server: a URL or a libpq key=value string (default: $DATABASE_URL, PGHOST..., else the embedded database)')
    .option('--json', 'machine-readable output on stdout, nothing else there')
    .option('-q, --quiet', 'only results and errors')
    .option('--verbose', 'each SQL statement and check with its time, on stderr (also IGNY8_DEBUG=1)')
    .option('--no-color', 'no colour (wins over NO_COLOR and FORCE_COLOR)')
    .configureHelp(helpConfiguration())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(scrubSecrets(text)) })
    .addHelpText('after', helpFooter(EXIT_CODES));
  attachRuntime(program, runtime);
  await registerCommands(program, args);
  return program;
}

/** Who holds the lock a statement timed out on, when the server can say. */
async function explainLockTimeout(runtime: Runtime, failure: LockTimeout): Promise<void> {
  const db = runtime.opened;
  if (!db?.concurrent) return;
  try {
    const { lockHolders } = await import('./db/lock.js');
    for (const holder of await lockHolders(db.knex)) {
      const since = holder.queryStart ? `, query started ${holder.queryStart.toISOString()}` : '';
      const app = holder.applicationName ? ` (${holder.applicationName})` : '';
      failure.details.push(`held by pid ${holder.pid}${app}: ${holder.mode} on ${holder.tables.join(', ')}, ${holder.state ?? 'state unknown'}${since}`);
    }
  } catch {
    // The diagnosis is a courtesy: without it the refusal still says what happened.
  }
  failure.details.push('retry when that session has finished, or raise --lock-timeout');
}

async function report(runtime: Runtime, error: unknown): Promise<number> {
  const failure = classifyError(error);
  if (failure instanceof LockTimeout) await explainLockTimeout(runtime, failure);
  const { out } = runtime;
  const prefix = failure instanceof InternalError ? 'internal error: ' : '';
  out.error(`${prefix}${failure.message}`);
  for (const line of failure.details) out.error(`  ${line}`);
  if (failure instanceof InternalError && process.env.IGNY8_DEBUG) {
    const cause = failure.cause instanceof Error ? failure.cause : failure;
    process.stderr.write(scrubSecrets(`${cause.stack ?? ''}\n`));
  }
  return failure.exitCode;
}

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Ctrl-C or a stop request: what is open is rolled back, the command says what was done and
 * what not, and the process exits 130 (SIGINT) or 143 (SIGTERM), as shells expect.
 */
async function interrupted(runtime: Runtime, signal: keyof typeof SIGNAL_EXIT): Promise<never> {
  runtime.out.error(`interrupted by ${signal}: the transaction in progress is rolled back`);
  for (const line of runtime.interruptNote?.() ?? []) runtime.out.error(`  ${line}`);
  await runtime.abort().catch(() => undefined);
  process.exit(SIGNAL_EXIT[signal]);
}

export async function main(argv: string[]): Promise<number> {
  const runtime = new Runtime(process.env, process.stdin, argv);
  let code: number = ExitCode.ok;
  for (const signal of Object.keys(SIGNAL_EXIT) as Array<keyof typeof SIGNAL_EXIT>) {
    process.once(signal, () => void interrupted(runtime, signal));
  }
  try {
    await (await buildProgram(argv.slice(2), runtime)).parseAsync(argv);
    code = runtime.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else {
      code = await report(runtime, error);
    }
  } finally {
    try {
      await runtime.close();
    } catch (error) {
      if (code === ExitCode.ok) code = await report(runtime, error);
    }
  }
  return code;
}
