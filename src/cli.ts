// The command line: registers every command, and is the one error boundary that maps the
// error model to exit codes and prints one clear line (plus details) per failure.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { classifyError, ExitCode, InternalError } from './errors.js';
import { helpConfiguration, helpFooter } from './io/help.js';
import { Output } from './io/output.js';
import { activeRuntime } from './commands/runtime.js';
import { scrubSecrets } from './secrets.js';
import { registerCommands } from './commands/index.js';

const EXIT_CODES = `
Exit codes:
  0   success; audit clean below --fail-on
  1   audit findings at or above --fail-on
  2   bad usage or invalid input (the message names the field)
  3   refused by a domain rule (email taken, limit reached, precondition failed)
  4   database unreachable or permission denied
  70  internal error

Database: --database-url or DATABASE_URL for a PostgreSQL server; otherwise the embedded database in ./.igny8/db (IGNY8_DATA_DIR moves it).

Environment:
  NO_COLOR=1       no colour (--no-color too; either wins over FORCE_COLOR)
  FORCE_COLOR=1    colour even when the output is not a terminal (0: none)
  COLUMNS=N        table width when the output is not a terminal (default: 100)
  IGNY8_DEBUG=1    an internal error (exit 70) also prints its stack trace`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('igny8')
    .description('Migrate, operate, audit and repair the igny8 tenant and billing database.')
    .version(version(), '-V, --version')
    .option('--database-url <url>', 'PostgreSQL server URL (default: $DATABASE_URL, else the embedded database)')
    .option('--json', 'machine-readable output on stdout, nothing else there')
    .option('-q, --quiet', 'only results and errors')
    .option('--no-color', 'no colour (wins over NO_COLOR and FORCE_COLOR)')
    .configureHelp(helpConfiguration())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(scrubSecrets(text)) })
    .addHelpText('after', helpFooter(EXIT_CODES));
  await registerCommands(program, args);
  return program;
}

function report(error: unknown): number {
  const failure = classifyError(error);
  // Before a command's runtime exists, --no-color is read from the arguments themselves.
  const out = activeRuntime?.out ?? new Output({ color: process.argv.includes('--no-color') ? false : undefined });
  const prefix = failure instanceof InternalError ? 'internal error: ' : '';
  out.error(`${prefix}${failure.message}`);
  for (const line of failure.details) out.error(`  ${line}`);
  if (failure instanceof InternalError && process.env.IGNY8_DEBUG) {
    const cause = failure.cause instanceof Error ? failure.cause : failure;
    process.stderr.write(scrubSecrets(`${cause.stack ?? ''}\n`));
  }
  return failure.exitCode;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  try {
    await (await buildProgram(argv.slice(2))).parseAsync(argv);
    code = activeRuntime?.exitCode ?? ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else {
      code = report(error);
    }
  } finally {
    try {
      await activeRuntime?.close();
    } catch (error) {
      if (code === ExitCode.ok) code = report(error);
    }
  }
  return code;
}
