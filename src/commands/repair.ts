// igny8 repair ID...|--all [--yes] [--account SLUG] [--default-industry SLUG]
// Without --yes it prints the plan and writes nothing; with --yes each check's repair runs
// in its own transactions and every changed row lands in the repair log under one run id.
import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { REPAIRABLE_IDS, resolveRepairIds } from '../rules/registry.js';
import { resolveScope, runRepairs, type RepairOutcome, type RepairPlan, type RepairRunReport } from '../repairs/run.js';
import type { Sample } from '../rules/finding.js';
import { sampleOption, sampleSchema } from './flags.js';
import { parseInput } from './validate.js';
import { slugSchema } from '../domain/inputs.js';
import { runWith, type Runtime } from './runtime.js';
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
});


type Flags = Omit<z.input<typeof inputSchema>, 'ids' | 'all' | 'yes'> & { all?: boolean; yes?: boolean };

function sampleLine(sample: Sample): string {
  const { key, account, ...fields } = sample;
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([field, value]) => `${field}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join('  ');
  return `    ${key}${account ? `  account=${account}` : ''}  ${rest}`;
}

function writtenText(outcome: RepairOutcome): string {
  const parts = Object.entries(outcome.written).map(([table, count]) => `${table} ${count}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

function renderPlan(runtime: Runtime, plan: RepairPlan, outcome?: RepairOutcome): void {
  const { out } = runtime;
  if (plan.notApplicable) {
    out.printWrapped(`${out.color.dim(plan.checkId)}: nothing to do (${plan.notApplicable})`);
    return;
  }
  if (outcome) {
    const head = outcome.repaired === 0 ? out.color.green(plan.checkId) : out.color.bold(plan.checkId);
    out.printWrapped(
      `${head}: ${outcome.repaired === 0 ? 'nothing to repair' : `repaired ${plural(outcome.repaired, 'row')}; rows written: ${writtenText(outcome)} (${plural(outcome.batches, 'batch', 'batches')}, ${outcome.durationMs} ms)`}`,
    );
  } else {
    out.printWrapped(`${out.color.bold(plan.checkId)}: ${plan.keys.length === 0 ? 'nothing to repair' : `${plural(plan.keys.length, 'row')} would change — ${plan.action}`}`);
    for (const sample of plan.examples) out.printWrapped(sampleLine(sample));
    if (plan.keys.length > plan.examples.length && plan.examples.length > 0) out.printWrapped(`    … and ${plan.keys.length - plan.examples.length} more`);
  }
  if (plan.leftOver) out.printWrapped(`  ${out.color.yellow(`left as they are: ${plan.leftOver.count}`)} — ${plan.leftOver.reason}`);
}

function render(runtime: Runtime, report: RepairRunReport): void {
  const { out } = runtime;
  out.result(
    {
      runId: report.applied ? report.runId : null,
      applied: report.applied,
      logReady: report.logReady,
      repairs: report.items.map(({ plan, outcome, requirements }) => ({
        checkId: plan.checkId,
        requirements,
        action: plan.action,
        count: plan.keys.length,
        examples: plan.examples,
        leftOver: plan.leftOver ?? null,
        notApplicable: plan.notApplicable ?? null,
        ...(outcome ? { repaired: outcome.repaired, written: outcome.written, batches: outcome.batches, durationMs: outcome.durationMs } : {}),
      })),
      failed: report.failed ? { checkId: report.failed.checkId, error: report.failed.error.message } : null,
      notRun: report.notRun,
    },
    () => {
      if (!report.applied) out.printWrapped(out.color.bold('repair plan — nothing is written; add --yes to apply'));
      for (const { plan, outcome } of report.items) renderPlan(runtime, plan, outcome);
      const needs = report.items.flatMap(({ plan, requirements }) => requirements.map((need) => ({ checkId: plan.checkId, need })));
      if (!report.applied && needs.length > 0) {
        out.printWrapped(out.color.bold('--yes will need:'));
        for (const { checkId, need } of needs) {
          const state = need.met ? out.color.green('given') : need.optional ? out.color.yellow('not given') : out.color.red('missing: --yes refuses');
          out.printWrapped(`  ${need.what} (${checkId}, ${need.why}): ${state}`);
        }
      }
      if (report.applied && report.items.some(({ outcome }) => (outcome?.repaired ?? 0) > 0)) {
        out.printWrapped(`run id ${report.runId}: every changed row is in igny8_repair_log with its before and after`);
      }
      if (report.notRun.length > 0) out.printWrapped(`not run: ${report.notRun.join(', ')}`);
      if (!report.logReady) {
        out.printWrapped('before --yes: run `igny8 migrate` (it adds the repair log and stops before the first migration that needs repairs)');
      }
    },
  );
  const left = report.items.filter(({ plan }) => plan.leftOver);
  if (left.length > 0 && report.applied) {
    out.warn(`${left.map(({ plan }) => plan.checkId).join(', ')}: some rows were left as they are (see above)`);
  }
}

export default function configureRepair(command: Command): void {
  command
    .argument('[ids...]', 'check ids to repair (igny8 audit --list)')
    .option('--all', 'every repairable check, in dependency order')
    .option('-y, --yes', 'apply (without it, only the plan is printed)')
    .option('--account <slug>', 'only this account')
    .option('--default-industry <slug>', 'the industry for sites whose sectors imply none (site-industry-null)')
    .addOption(sampleOption('example rows per check in the plan'))
    .option('--batch-size <n>', 'rows per transaction', '10000')
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
        const input = parseInput(inputSchema, { ...flags, ids, all: Boolean(flags.all), yes: Boolean(flags.yes) });
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
          onWait: () => runtime.out.info('another igny8 migrate or repair holds the lock; waiting for it'),
          onStart: (plan) => spinner.update(`${plan.checkId}: ${plural(plan.keys.length, 'row')}`),
          onProgress: (event) =>
            spinner.update(`${event.checkId}: batch ${event.batch}/${event.batches} (${event.done.toLocaleString('en-US')}/${event.total.toLocaleString('en-US')})`),
        }).finally(() => spinner.stop());
        render(runtime, report);
        if (report.failed) throw report.failed.error;
      }),
    );
}
