// igny8 migrate [latest] | status | down | adopt
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { adoptLegacyDatabase } from '../db/adopt.js';
import {
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_STATEMENT_TIMEOUT,
  migrateDown,
  migrateLatest,
  migrationStatus,
  type RunReport,
} from '../db/migrator.js';
import { renderRunResults, renderStatus } from '../render/migrations.js';
import { parseInput } from './validate.js';
import { runWith, type Runtime } from './runtime.js';
import { plural } from '../render/text.js';

const interval = z
  .string()
  .regex(/^\d+\s*(ms|s|min|h)?$/, 'a duration such as 500ms, 10s, 5min or 0 (no limit)');
const timeoutsSchema = z.object({ lockTimeout: interval, statementTimeout: interval });

function timeoutOptions(command: Command): Command {
  return command
    .addOption(new Option('--lock-timeout <duration>', 'give up waiting for a table lock after').default(DEFAULT_LOCK_TIMEOUT))
    .addOption(
      new Option('--statement-timeout <duration>', 'cancel any statement running longer than').default(
        DEFAULT_STATEMENT_TIMEOUT,
      ),
    );
}

function report(runtime: Runtime, run: RunReport, extra: Record<string, unknown> = {}): void {
  runtime.out.result({ ...extra, results: run.results }, () => {
    for (const line of renderRunResults(run.results, runtime.out.color, runtime.out.width)) runtime.out.print(line);
  });
  if (run.error) throw run.error;
}

export default function configureMigrate(migrate: Command): void {
  timeoutOptions(
    migrate
      .command('latest', { isDefault: true })
      .description('apply pending migrations, each in its own transaction, under an advisory lock')
      .option('--dry-run', 'apply in a transaction and roll back, reporting what would change')
      .option('--to <name>', 'stop after this migration'),
  ).action(
    runWith<{ dryRun?: boolean; to?: string; lockTimeout: string; statementTimeout: string }>(async (options, runtime) => {
      const timeouts = parseInput(timeoutsSchema, options);
      const db = await runtime.database();
      const spinner = await runtime.out.spinner('migrating');
      const run = await migrateLatest(db, {
        ...timeouts,
        dryRun: options.dryRun,
        to: options.to,
        onWait: () => runtime.out.info('another igny8 migrate holds the migration lock; waiting for it'),
        onStart: (name) => spinner.update(`migrating: ${name}`),
      }).finally(() => spinner.stop());
      if (options.dryRun && !runtime.out.json) runtime.out.info('dry run: every change was rolled back');
      report(runtime, run, { dryRun: Boolean(options.dryRun) });
    }),
  );

  migrate
    .command('status')
    .description('applied and pending migrations; applied ones whose file changed since')
    .action(
      runWith(async (_options, runtime) => {
        const rows = await migrationStatus(await runtime.database());
        runtime.out.result({ migrations: rows }, () => {
          for (const line of renderStatus(rows, runtime.out.color, runtime.out.width)) runtime.out.print(line);
        });
      }),
    );

  timeoutOptions(
    migrate
      .command('down')
      .description('revert the last migration, or every migration after --to NAME')
      .option('--to <name>', 'the migration to return to (it stays applied)'),
  ).action(
    runWith<{ to?: string; lockTimeout: string; statementTimeout: string }>(async (options, runtime) => {
      const timeouts = parseInput(timeoutsSchema, options);
      const run = await migrateDown(await runtime.database(), { ...timeouts, to: options.to });
      report(runtime, run);
    }),
  );

  migrate
    .command('adopt')
    .description('adopt an existing legacy database: verify its shape, record the baseline as applied')
    .action(
      runWith(async (_options, runtime) => {
        const result = await adoptLegacyDatabase(await runtime.database());
        runtime.out.result(result, () => {
          runtime.out.print(`adopted: the legacy shape matches (${plural(result.tables, 'table')}); ${result.baseline} recorded as applied`);
          if (result.extraColumns.length > 0) {
            runtime.out.print(`columns beyond the legacy shape, kept as they are: ${result.extraColumns.join(', ')}`);
          }
          runtime.out.print('next: `igny8 audit`, then `igny8 migrate`');
        });
      }),
    );
}
