// The command line: registers every command, and is the one error boundary that maps the
// error model to exit codes and prints one clear line (plus details) per failure.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { classifyError, ExitCode, InternalError } from './errors.js';
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

Database: --database-url or DATABASE_URL for a PostgreSQL server; otherwise the embedded
database in ./.igny8/db (IGNY8_DATA_DIR moves it).`;

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
    .option('--no-color', 'no colour (also NO_COLOR)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(scrubSecrets(text)) })
    .addHelpText('after', EXIT_CODES);
  await registerCommands(program, args);
  return program;
}

function report(error: unknown): number {
  const failure = classifyError(error);
  const out = activeRuntime?.out ?? new Output({ json: false, color: !('NO_COLOR' in process.env) });
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
