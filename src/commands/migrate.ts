// igny8 migrate [latest] | status | down | adopt
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { adoptLegacyDatabase } from '../db/adopt.js';
import {
  databasePhase,
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_STATEMENT_TIMEOUT,
  migrateDown,
  migrateLatest,
  migrationStatus,
  invalidMigrations,
  type MigrationRunResult,
  type RunReport,
} from '../db/migrator.js';
import { migrationPlan } from '../db/plan.js';
import { renderPhase, renderPlan, renderRunResult, renderRunSummary, renderStatus } from '../render/migrations.js';
import { ExitCode } from '../errors.js';
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

/**
 * Each migration's start and result are written as they happen, so a CI log or a killed run
 * shows what was applied; an interruption says what was, what was rolled back and what not run.
 */
function streamed(runtime: Runtime, verb: string) {
  const done: MigrationRunResult[] = [];
  let current: string | undefined;
  runtime.interruptNote = () => [
    `${verb} before the interruption: ${done.filter((r) => r.status !== 'not run').map((r) => r.name).join(', ') || 'none'}`,
    ...(current
      ? [`rolled back: ${current} (it was in progress)`, 'a batched migration keeps the batches it finished: the next run resumes it']
      : []),
    'the rest did not run: `igny8 migrate status` shows where the database stands',
  ];
  return {
    onStart: (name: string) => {
      current = name;
      runtime.out.progress(runtime.out.color.dim(`▸ ${name}`));
    },
    onResult: (result: MigrationRunResult) => {
      if (result.name === current) current = undefined;
      done.push(result);
      for (const line of renderRunResult(result, runtime.out.color, runtime.out.width)) runtime.out.progress(line);
    },
  };
}

function report(runtime: Runtime, run: RunReport, extra: Record<string, unknown> = {}, nothingToDo?: string): void {
  runtime.out.result({ ...extra, results: run.results }, () => {
    runtime.out.print(run.results.length === 0 ? (nothingToDo ?? 'nothing to do: every migration is applied') : renderRunSummary(run.results));
  });
  if (run.error) throw run.error;
}

export default function configureMigrate(migrate: Command): void {
  timeoutOptions(
    migrate
      .command('latest', { isDefault: true })
      .description('apply pending migrations, each in its own transaction, under an advisory lock')
      .option('--dry-run', 'apply in a transaction and roll back, reporting what would change')
      .option('--to <name>', 'stop after this migration')
      .option('--plan', 'show what each pending migration does, the locks it takes and the rows concerned; change nothing')
      .addOption(
        new Option(
          '--phase <phase>',
          'expand: only what the running legacy application survives; contract: the rest, after the new application is deployed (default: both)',
        ).choices(['expand', 'contract']),
      ),
  ).action(
    runWith<{ dryRun?: boolean; plan?: boolean; to?: string; phase?: 'expand' | 'contract'; lockTimeout: string; statementTimeout: string }>(async (options, runtime) => {
      const timeouts = parseInput(timeoutsSchema, options);
      if (options.plan) {
        const db = await runtime.database({ readOnly: true });
        const plan = await migrationPlan(db, { phase: options.phase, to: options.to });
        runtime.out.result({ phase: options.phase ?? 'both', plan }, () => {
          for (const line of renderPlan(plan, runtime.out.color, runtime.out.width)) runtime.out.print(line);
        });
        return;
      }
      const db = await runtime.database();
      const run = await migrateLatest(db, {
        ...timeouts,
        dryRun: options.dryRun,
        to: options.to,
        phase: options.phase,
        onWait: () => runtime.out.info('another igny8 migrate holds the migration lock; waiting for it'),
        ...streamed(runtime, options.dryRun ? 'tried' : 'applied'),
      });
      if (options.dryRun && !runtime.out.json) runtime.out.info('dry run: every change was rolled back');
      const nothing = options.phase ? `nothing to do: no ${options.phase} migration is pending` : undefined;
      report(runtime, run, { dryRun: Boolean(options.dryRun), phase: options.phase ?? 'both' }, nothing);
    }),
  );

  migrate
    .command('status')
    .description('applied and pending migrations; applied ones whose file changed since')
    .action(
      runWith(async (_options, runtime) => {
        const rows = await migrationStatus(await runtime.database({ readOnly: true }));
        const phase = databasePhase(rows);
        runtime.out.result({ phase, migrations: rows }, () => {
          for (const line of renderStatus(rows, runtime.out.color, runtime.out.width)) runtime.out.print(line);
          for (const line of renderPhase(phase, rows, runtime.out.width)) runtime.out.print(line);
        });
      }),
    );

  migrate
    .command('validate')
    .description('exit 1 when an applied migration changed since, is unknown here, or was skipped')
    .action(
      runWith(async (_options, runtime) => {
        const rows = await migrationStatus(await runtime.database({ readOnly: true }));
        const invalid = invalidMigrations(rows);
        runtime.out.result({ valid: invalid.length === 0, invalid, migrations: rows }, () => {
          for (const line of renderStatus(invalid.length > 0 ? invalid : [], runtime.out.color, runtime.out.width).slice(0, -2)) {
            runtime.out.print(line);
          }
          const applied = rows.filter((row) => row.state === 'applied').length;
          const older = rows.filter((row) => row.olderChecksum).length;
          runtime.out.print(
            invalid.length === 0
              ? `valid: ${plural(applied, 'applied migration')} match what igny8 ships${older ? ` (${older} applied by an older igny8, not compared)` : ''}`
              : `invalid: ${plural(invalid.length, 'migration')} differ from what igny8 ships`,
          );
        });
        return invalid.length === 0 ? ExitCode.ok : ExitCode.findings;
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
      const run = await migrateDown(await runtime.database(), { ...timeouts, to: options.to, ...streamed(runtime, 'reverted') });
      report(
        runtime,
        run,
        {},
        options.to ? `nothing to revert: no migration is applied after ${options.to}` : 'nothing to revert: no migration is applied',
      );
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
