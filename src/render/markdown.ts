// `audit --format markdown`: GitHub-flavoured markdown for a pull-request comment or the
// step summary. The verdict, a table of every check, then each check with findings: its
// samples and its fix. Values come from the database, so every one is escaped: a `|`, a
// backtick or markup in a sample cannot break the table, and they sit in <code>, where GitHub
// turns no @name into a mention.
import type { AuditReport, CheckResult } from '../audit/run.js';
import type { Sample } from '../rules/finding.js';
import { checkState, countText, moreText, sampleFields, totalsText, verdictLabel, type CheckState } from './audit-text.js';
import { reportForSharing, type PersonalDataOptions } from './personal-data.js';

export type MarkdownOptions = PersonalDataOptions;

const ICON: Record<CheckState, string> = {
  fail: '❌',
  warn: '⚠️',
  ok: '✅',
  suppressed: '🔕',
  enforced: '🔒',
  'n/a': '➖',
  error: '💥',
};

/**
 * Text safe in a table cell or a paragraph: HTML-significant characters become entities,
 * markdown's inline punctuation is backslash-escaped (GFM honours `\|` inside cells), and line
 * breaks become <br>, since a cell is one line.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\\`*_[\]|~]/g, '\\$&')
    .replace(/\r\n|\r|\n/g, '<br>')
    .replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** A value from the database, escaped and set in code. */
function code(text: string): string {
  return `<code>${escapeMarkdown(text)}</code>`;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function utc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function checksTable(report: AuditReport): string[] {
  return [
    row(['status', 'check', 'severity', 'count', 'title']),
    row([':--', ':--', ':--', '--:', ':--']),
    ...report.checks.map((check) => {
      const state = checkState(check, report.failOn);
      return row([`${ICON[state]} ${state}`, code(check.id), check.severity, escapeMarkdown(countText(check)), escapeMarkdown(check.title)]);
    }),
  ];
}

/** The samples of one check as a table: key, account, then every field any sample has. */
function samplesTable(samples: readonly Sample[]): string[] {
  const fields = samples.map((sample) => new Map(sampleFields(sample)));
  const columns = [...new Set(fields.flatMap((map) => [...map.keys()]))];
  const hasAccount = samples.some((sample) => sample.account);
  const head = ['key', ...(hasAccount ? ['account'] : []), ...columns];
  return [
    row(head.map(escapeMarkdown)),
    row(head.map(() => ':--')),
    ...samples.map((sample, index) => {
      const values = columns.map((column) => {
        const value = fields[index].get(column);
        return value === undefined ? '' : code(value);
      });
      return row([code(sample.key), ...(hasAccount ? [sample.account ? code(sample.account) : ''] : []), ...values]);
    }),
  ];
}

function checkSection(check: CheckResult, state: CheckState): string[] {
  const what = check.status === 'findings' ? `${check.count.toLocaleString('en-US')} ${check.count === 1 ? 'row' : 'rows'}` : 'failed to run';
  const lines = ['', `### ${ICON[state]} ${code(check.id)}: ${what} (${check.severity})`, '', escapeMarkdown(check.title)];
  if (check.status === 'error') lines.push('', `**Error:** ${escapeMarkdown(check.error ?? 'unknown error')}`);
  if (check.samples.length > 0) lines.push('', ...samplesTable(check.samples));
  const more = moreText(check);
  if (more) lines.push('', escapeMarkdown(more));
  if (check.status === 'findings') lines.push('', `**Fix:** ${escapeMarkdown(check.remedy)}`);
  for (const note of check.notes) lines.push('', `_Note:_ ${escapeMarkdown(note)}`);
  return lines;
}

/** The whole summary as one markdown document, ending with a newline. */
export function renderMarkdown(audited: AuditReport, options: MarkdownOptions = {}): string {
  const report = reportForSharing(audited, options);
  const verdict = report.passed ? '✅ PASS' : '❌ FAIL';
  const meta = [
    `schema ${code(report.schemaVersion ?? 'unknown')}`,
    ...(report.account ? [`account ${code(report.account)}`] : []),
    ...(report.runId ? [`run ${code(report.runId)}`] : []),
    `started ${utc(report.startedAt)}`,
    `${report.durationMs.toLocaleString('en-US')} ms`,
  ];
  const lines = [
    `## igny8 audit: ${verdict}`,
    '',
    `**${escapeMarkdown(verdictLabel(report))}**: ${escapeMarkdown(totalsText(report))}`,
    '',
    `<sub>${meta.join(' · ')}</sub>`,
  ];
  if (report.failure) lines.push('', `> **Why:** ${escapeMarkdown(report.failure)}`);
  lines.push('', ...checksTable(report));
  for (const check of report.checks) {
    const state = checkState(check, report.failOn);
    if (check.status === 'findings' || check.status === 'error') lines.push(...checkSection(check, state));
  }
  // Expired suppressions count again and say so, also on checks that came back clean.
  const quiet = report.checks.filter((check) => check.status !== 'findings' && check.status !== 'error' && check.notes.length > 0);
  if (quiet.length > 0) {
    lines.push('', '### Notes', '');
    for (const check of quiet) for (const note of check.notes) lines.push(`- ${code(check.id)}: ${escapeMarkdown(note)}`);
  }
  return `${lines.join('\n')}\n`;
}
