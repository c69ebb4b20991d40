// igny8 repair ID...|--all [--yes] [--account SLUG] [--default-industry SLUG] [--reason TEXT];
// igny8 repair --history; igny8 repair undo RUN_ID
// Without --yes it prints the plan and writes nothing; with --yes each check's repair runs
// in its own transactions and every changed row lands in the repair log under one run id.
import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { REPAIRABLE_IDS, resolveRepairIds } from '../rules/registry.js';
import { resolveScope, runRepairs } from '../repairs/run.js';
import { leftOverWarning, renderRepairRun, repairDocument } from '../render/repair.js';
import { sampleOption, sampleSchema } from './flags.js';
import { parseInput } from './validate.js';
import { reasonSchema, slugSchema } from '../domain/inputs.js';
import { currentOperator } from '../operator.js';
import { runHistory } from '../repairs/runs.js';
import { undoRepairRun } from '../repairs/undo.js';
import { renderRunHistory, renderUndo } from '../render/repair.js';
import { runWith } from './runtime.js';
import { plural } from '../render/text.js';
import { helpFooter } from '../io/help.js';

const inputSchema = z.object({
  ids: z.array(z.string().min(1)),
  all: z.boolean(),
  yes: z.boolean(),
  account: slugSchema.optional(),
  defaultIndustry: slugSchema.optional(),
  sample: sampleSchema,
  batchSize: z.coerce.number().int().min(1).max(1_000_000),
  reason: reasonSchema.optional(),
  history: z.boolean(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(10_000),
});

const undoSchema = z.object({ runId: z.string().trim(), reason: reasonSchema.optional() });


type Flags = Omit<z.input<typeof inputSchema>, 'ids' | 'all' | 'yes' | 'history'> & { all?: boolean; yes?: boolean; history?: boolean };

export default function configureRepair(command: Command): void {
  command
    .argument('[ids...]', 'check ids to repair (igny8 audit --list)')
    .option('--all', 'every repairable check, in dependency order')
    .option('-y, --yes', 'apply (without it, only the plan is printed)')
    .option('--account <slug>', 'only this account')
    .option('--default-industry <slug>', 'the industry for sites whose sectors imply none (site-industry-null)')
    .addOption(sampleOption('example rows per check in the plan'))
    .option('--batch-size <n>', 'rows per transaction', '10000')
    .option('--reason <text>', 'why, recorded with the run (with who ran it and igny8 version)')
    .option('--history', 'list the recorded runs (repairs, undos, key rotations), newest first')
    .option('--limit <n>', 'with --history: how many runs', '20')
    .addHelpText(
      'after',
      helpFooter(`
Repairable checks, in the order --all runs them:
  ${REPAIRABLE_IDS.join('\n  ')}
Other checks have no automatic repair: a person decides (igny8 audit --check ID lists the rows).

Each repair recounts its rows under row locks and refuses (exit 3, nothing written) if they changed since the plan; every changed row goes to igny8_repair_log with its before and after, under one run id per invocation. See docs/repair.md.`),
    )
    .action(
      runWith<Flags>(async (flags, runtime, ids) => {
        const input = parseInput(inputSchema, { ...flags, ids, all: Boolean(flags.all), yes: Boolean(flags.yes), history: Boolean(flags.history) });
        if (input.history) {
          if (input.all || input.ids.length > 0 || input.yes) throw new UsageError('--history lists runs: it takes no check ids, --all or --yes');
          const db = await runtime.database({ readOnly: true });
          const runs = await runHistory(db.knex, input.limit);
          runtime.out.result(runs, () => {
            for (const line of renderRunHistory(runs, runtime.out.width)) runtime.out.print(line);
          });
          return;
        }
        if (input.all && input.ids.length > 0) {
          throw new UsageError('name check ids or use --all, not both');
        }
        const checkIds = resolveRepairIds(input.ids, input.all);
        const db = await runtime.database();
        const scope = await resolveScope(db.knex, { account: input.account, defaultIndustry: input.defaultIndustry });
        const spinner = await runtime.out.spinner(input.yes ? 'repairing' : 'planning');
        const report = await runRepairs(db, checkIds, {
          ...scope,
          apply: input.yes,
          kind: db.kind,
          dataDir: db.dataDir,
          env: runtime.env,
          sample: input.sample,
          batchSize: input.batchSize,
          operator: currentOperator(input.reason),
          onWait: () => runtime.out.info('another igny8 migrate or repair holds the lock; waiting for it'),
          onStart: (plan) => spinner.update(`${plan.checkId}: ${plural(plan.keys.length, 'row')}`),
          onProgress: (event) =>
            spinner.update(`${event.checkId}: batch ${event.batch}/${event.batches} (${event.done.toLocaleString('en-US')}/${event.total.toLocaleString('en-US')})`),
        }).finally(() => spinner.stop());
        runtime.out.result(repairDocument(report), () => {
          for (const line of renderRepairRun(report, runtime.out.color, runtime.out.width)) runtime.out.print(line);
        });
        const warning = leftOverWarning(report);
        if (warning) runtime.out.warn(warning);
        if (report.failed) throw report.failed.error;
      }),
    );

  command
    .command('undo')
    .description('revert the rows one repair run changed, in one transaction (refused if any changed since)')
    .argument('<run-id>', 'the run id, as `igny8 repair --history` shows it')
    // --reason is the repair command's option (listed under the global options), wherever it is written.
    .addHelpText(
      'after',
      helpFooter(`
Refused (exit 3, nothing written): a row changed since the run (listed), a run that created accounts or wrote secrets, an undo, a run undone already. Exit 2: not a run id, or no such run. Ledger rows are never deleted: a grant the run made gets a correcting row. See docs/repair.md.`),
    )
    .action(
      runWith<Record<string, never>>(async (_flags, runtime, args) => {
        const input = parseInput(undoSchema, { runId: args[0], reason: (command.opts() as { reason?: string }).reason });
        const db = await runtime.database();
        const result = await undoRepairRun(db, input, currentOperator(input.reason));
        runtime.out.result(result, () => {
          for (const line of renderUndo(result)) runtime.out.print(line);
        });
      }),
    );
}
