// `audit` for a person: a table (id, severity, count, title) readable at a glance, samples
// of each check with findings beneath it, and one summary line, all fitted to the width.
import type { ChalkInstance } from 'chalk';
import type { AuditReport, CheckResult } from '../audit/run.js';
import { countText, describeSample, moreText, totalsText, verdictLabel } from './audit-text.js';
import { renderTable } from './table.js';
import { wrapText } from './text.js';

function severityCell(check: CheckResult, color: ChalkInstance): string {
  if (check.status !== 'findings') return color.dim(check.severity);
  return check.severity === 'error' ? color.red.bold(check.severity) : color.yellow.bold(check.severity);
}

function countCell(check: CheckResult, color: ChalkInstance): string {
  const text = countText(check);
  switch (check.status) {
    case 'findings':
      return (check.severity === 'error' ? color.red : color.yellow)(text);
    case 'ok':
    case 'enforced':
      return color.green(text);
    case 'suppressed':
    case 'not-applicable':
      return color.dim(text);
    case 'error':
      return color.red.bold(text);
  }
}

export function renderAuditTable(report: AuditReport, color: ChalkInstance, width: number): string[] {
  // Plain text is wrapped first, then painted line by line, so colour codes never count as width.
  const fitted = (text: string, paint: (line: string) => string = (line) => line) => wrapText(text, width).map((line) => paint(line));
  const lines = [
    renderTable(
      // A title gives way to the terminal with an ellipsis: `audit --list` shows it whole.
      ['check', 'severity', 'count', { head: 'title', overflow: 'truncate' }],
      report.checks.map((check) => [check.id, severityCell(check, color), countCell(check, color), check.title]),
      { width, compact: true },
    ),
  ];
  for (const check of report.checks) {
    const details: string[] = [];
    if (check.status === 'findings') {
      for (const sample of check.samples) details.push(...fitted(`  ${describeSample(sample)}`));
      const more = moreText(check);
      if (more) details.push(...fitted(`  ${more}`, color.dim));
      details.push(...fitted(`  fix: ${check.remedy}`, color.dim));
    }
    if (check.status === 'not-applicable') details.push(...fitted(`  not applicable: ${check.reason}`, color.dim));
    if (check.status === 'error') details.push(...fitted(`  ${check.error}`, color.red));
    for (const note of check.notes) details.push(...fitted(`  note: ${note}`, color.dim));
    if (details.length === 0) continue;
    const paint = check.status === 'findings' ? (check.severity === 'error' ? color.red : color.yellow) : color.bold;
    lines.push('', paint(`${check.id} (${check.status === 'findings' ? check.count.toLocaleString('en-US') : check.status})`), ...details);
  }
  const enforced = report.checks.filter((check) => check.status === 'enforced');
  if (enforced.length > 0) {
    lines.push('', color.bold('enforced by the schema'));
    for (const check of enforced) lines.push(...fitted(`  ${check.id}: ${check.enforcedBy}`, color.dim));
  }
  lines.push('', ...summaryLines(report, color, width));
  return lines;
}

/** The verdict and the totals, wrapped to the width. */
export function summaryLines(report: AuditReport, color: ChalkInstance, width: number): string[] {
  const verdict = verdictLabel(report);
  const run = report.runId ? `, recorded as run ${report.runId}` : '';
  const [first, ...rest] = wrapText(`${verdict}: ${totalsText(report)}; schema ${report.schemaVersion ?? 'unknown'}; ${report.durationMs} ms${run}`, width);
  // Only the verdict is coloured: green for a pass, red for a fail.
  const paint = report.passed ? color.green : color.red;
  return [first.startsWith(verdict) ? paint(verdict) + first.slice(verdict.length) : first, ...rest];
}
