// `audit` for a person: a table (id, severity, count, title) readable at a glance, samples
// of each check with findings beneath it, and one summary line.
import type { ChalkInstance } from 'chalk';
import type { AuditReport, CheckResult } from '../audit/run.js';
import type { Sample } from '../checks/types.js';
import Table from 'cli-table3';

/** A compact table: no rule between rows, so twenty checks fit one screen. */
function compactTable(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row);
  return table.toString();
}

function severityCell(check: CheckResult, color: ChalkInstance): string {
  if (check.status !== 'findings') return color.dim(check.severity);
  return check.severity === 'error' ? color.red.bold(check.severity) : color.yellow.bold(check.severity);
}

function countCell(check: CheckResult, color: ChalkInstance): string {
  switch (check.status) {
    case 'findings':
      return (check.severity === 'error' ? color.red : color.yellow)(check.count.toLocaleString('en-US'));
    case 'ok':
      return color.green('0');
    case 'suppressed':
      return color.dim(`0 (${check.suppressed.toLocaleString('en-US')} suppressed)`);
    case 'enforced':
      return color.green('enforced');
    case 'not-applicable':
      return color.dim('n/a');
    case 'error':
      return color.red.bold('ERROR');
  }
}

function describeSample(sample: Sample): string {
  const fields = Object.entries(sample)
    .filter(([field, value]) => field !== 'key' && field !== 'account' && value !== null && value !== undefined && value !== '')
    .map(([field, value]) => `${field}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return [sample.key, sample.account ? `account=${sample.account}` : '', ...fields].filter(Boolean).join('  ');
}

export function renderAuditTable(report: AuditReport, color: ChalkInstance): string[] {
  const lines = [
    compactTable(
      ['check', 'severity', 'count', 'title'],
      report.checks.map((check) => [check.id, severityCell(check, color), countCell(check, color), check.title]),
    ),
  ];
  for (const check of report.checks) {
    const details: string[] = [];
    if (check.status === 'findings') {
      for (const sample of check.samples) details.push(`  ${describeSample(sample)}`);
      if (check.count > check.samples.length) {
        details.push(color.dim(`  … and ${(check.count - check.samples.length).toLocaleString('en-US')} more`));
      }
      details.push(color.dim(`  fix: ${check.remedy}`));
    }
    if (check.status === 'not-applicable') details.push(color.dim(`  not applicable: ${check.reason}`));
    if (check.status === 'error') details.push(color.red(`  ${check.error}`));
    for (const note of check.notes) details.push(color.dim(`  note: ${note}`));
    if (details.length === 0) continue;
    const paint = check.status === 'findings' ? (check.severity === 'error' ? color.red : color.yellow) : color.bold;
    lines.push('', paint(`${check.id} (${check.status === 'findings' ? check.count.toLocaleString('en-US') : check.status})`), ...details);
  }
  const enforced = report.checks.filter((check) => check.status === 'enforced');
  if (enforced.length > 0) {
    lines.push('', color.bold('enforced by the schema'));
    for (const check of enforced) lines.push(color.dim(`  ${check.id}: ${check.enforcedBy}`));
  }
  lines.push('', summaryLine(report, color));
  return lines;
}

export function summaryLine(report: AuditReport, color: ChalkInstance): string {
  const { totals } = report;
  const parts = [
    `${totals.checks} checks`,
    `${totals.withFindings} with findings (${totals.errorRows.toLocaleString('en-US')} error rows, ${totals.warningRows.toLocaleString('en-US')} warning rows)`,
  ];
  if (totals.enforced) parts.push(`${totals.enforced} enforced by schema`);
  if (totals.notApplicable) parts.push(`${totals.notApplicable} not applicable`);
  if (totals.suppressedRows) parts.push(`${totals.suppressedRows.toLocaleString('en-US')} suppressed`);
  if (totals.errored) parts.push(`${totals.errored} failed to run`);
  const verdict = report.passed ? color.green(`PASS (--fail-on ${report.failOn})`) : color.red(`FAIL (--fail-on ${report.failOn})`);
  const run = report.runId ? `, recorded as run ${report.runId}` : '';
  return `${verdict}: ${parts.join(', ')}; schema ${report.schemaVersion ?? 'unknown'}; ${report.durationMs} ms${run}`;
}
