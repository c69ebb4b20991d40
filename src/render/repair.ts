// How a repair run looks: the plan (what --yes would change, with examples and what it
// needs), or what was applied, and the one JSON document for machines.
import type { ChalkInstance } from 'chalk';
import type { RepairOutcome, RepairPlan, RepairRunReport } from '../repairs/run.js';
import type { RunSummary } from '../repairs/runs.js';
import type { UndoResult } from '../repairs/undo.js';
import type { Sample } from '../rules/finding.js';
import { renderTable } from './table.js';
import { plural, wrapText } from './text.js';

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

function planLines(plan: RepairPlan, outcome: RepairOutcome | undefined, color: ChalkInstance): string[] {
  if (plan.notApplicable) return [`${color.dim(plan.checkId)}: nothing to do (${plan.notApplicable})`];
  const lines: string[] = [];
  if (outcome) {
    const head = outcome.repaired === 0 ? color.green(plan.checkId) : color.bold(plan.checkId);
    lines.push(
      `${head}: ${outcome.repaired === 0 ? 'nothing to repair' : `repaired ${plural(outcome.repaired, 'row')}; rows written: ${writtenText(outcome)} (${plural(outcome.batches, 'batch', 'batches')}, ${outcome.durationMs} ms)`}`,
    );
  } else {
    lines.push(
      `${color.bold(plan.checkId)}: ${plan.keys.length === 0 ? 'nothing to repair' : `${plural(plan.keys.length, 'row')} would change — ${plan.action}`}`,
    );
    lines.push(...plan.examples.map(sampleLine));
    if (plan.keys.length > plan.examples.length && plan.examples.length > 0) {
      lines.push(`    … and ${plan.keys.length - plan.examples.length} more`);
    }
  }
  if (plan.leftOver) lines.push(`  ${color.yellow(`left as they are: ${plan.leftOver.count}`)} — ${plan.leftOver.reason}`);
  return lines;
}

/** The run for a person, wrapped to `width`. */
export function renderRepairRun(report: RepairRunReport, color: ChalkInstance, width: number): string[] {
  const lines: string[] = [];
  if (!report.applied) lines.push(color.bold('repair plan — nothing is written; add --yes to apply'));
  for (const { plan, outcome } of report.items) lines.push(...planLines(plan, outcome, color));
  const needs = report.items.flatMap(({ plan, requirements }) => requirements.map((need) => ({ checkId: plan.checkId, need })));
  if (!report.applied && needs.length > 0) {
    lines.push(color.bold('--yes will need:'));
    for (const { checkId, need } of needs) {
      const state = need.met ? color.green('given') : need.optional ? color.yellow('not given') : color.red('missing: --yes refuses');
      lines.push(`  ${need.what} (${checkId}, ${need.why}): ${state}`);
    }
  }
  if (report.applied && report.items.some(({ outcome }) => (outcome?.repaired ?? 0) > 0)) {
    lines.push(`run id ${report.runId}: every changed row is in igny8_repair_log with its before and after`);
  }
  if (report.notRun.length > 0) lines.push(`not run: ${report.notRun.join(', ')}`);
  if (!report.logReady) {
    lines.push('before --yes: run `igny8 migrate` (it adds the repair log and stops before the first migration that needs repairs)');
  }
  return lines.flatMap((line) => wrapText(line, width));
}

/** The run for a machine. */
export function repairDocument(report: RepairRunReport): Record<string, unknown> {
  return {
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
  };
}

/** A warning line when an applied run left rows for a person; undefined otherwise. */
export function leftOverWarning(report: RepairRunReport): string | undefined {
  const left = report.items.filter(({ plan }) => plan.leftOver);
  if (left.length === 0 || !report.applied) return undefined;
  return `${left.map(({ plan }) => plan.checkId).join(', ')}: some rows were left as they are (see above)`;
}

export function renderRunHistory(runs: RunSummary[], width: number): string[] {
  if (runs.length === 0) return ['no repair runs recorded'];
  const at = (value: Date | null) => (value instanceof Date ? value.toISOString().replace('T', ' ').slice(0, 19) : '');
  return [
    renderTable(
      ['run id', 'kind', 'started', 'checks', 'rows', 'ran by', 'reason', 'igny8', 'undone by / undoes'],
      runs.map((run) => [
        run.runId,
        run.kind,
        at(run.startedAt),
        run.checkIds.join(', '),
        run.rows,
        run.ranBy ?? '',
        run.reason ?? '',
        run.igny8Version ?? '',
        run.undoneBy ? `undone by ${run.undoneBy}` : run.undoes ? `undoes ${run.undoes}` : '',
      ]),
      { width },
    ),
  ];
}

export function renderUndo(result: UndoResult): string[] {
  const parts = Object.entries(result.written).map(([table, count]) => `${table} ${count}`);
  return [
    `undid repair run ${result.undoneRunId}: ${parts.length > 0 ? parts.join(', ') : 'nothing to write'}`,
    ...(result.ledgerCorrections > 0 ? [`  ${plural(result.ledgerCorrections, 'correcting ledger row')} added (ledger rows are never deleted)`] : []),
    `run id ${result.runId}: every row the undo wrote is in igny8_repair_log; \`igny8 repair --history\` shows both runs`,
  ];
}
