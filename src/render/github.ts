// `audit --format github`: workflow commands GitHub Actions turns into annotations.
// Findings below --fail-on still show, as warnings or notices, so nothing is hidden. CI logs
// are not private: emails and names in samples are masked unless showPersonalData.
import type { AuditReport, CheckResult } from '../audit/run.js';
import { reportForSharing, type PersonalDataOptions } from './personal-data.js';
import { plural } from './text.js';

/** Message text: %, CR and LF are encoded (GitHub's escaping for command data). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values additionally encode : and , */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function line(level: 'error' | 'warning' | 'notice', title: string, message: string): string {
  return `::${level} title=${escapeProperty(title)}::${escapeData(message)}`;
}

function findingLine(check: CheckResult): string {
  const examples = check.samples.map((sample) => sample.key).join(', ');
  const message = `${check.count} found: ${check.title}${examples ? ` (e.g. ${examples})` : ''}. Fix: ${check.remedy}`;
  return line(check.severity, `igny8 audit ${check.id}`, message);
}

export function renderGithub(audited: AuditReport, options: PersonalDataOptions = {}): string[] {
  const report = reportForSharing(audited, options);
  const lines: string[] = [];
  for (const check of report.checks) {
    if (check.status === 'findings') lines.push(findingLine(check));
    if (check.status === 'error') lines.push(line('error', `igny8 audit ${check.id}`, `the check failed to run: ${check.error}`));
    for (const note of check.notes.filter((text) => text.includes('expired'))) {
      lines.push(line('warning', `igny8 audit ${check.id}`, note));
    }
  }
  if (report.failure) lines.push(line('error', 'igny8 audit', report.failure));
  const { totals } = report;
  lines.push(
    line(
      'notice',
      'igny8 audit',
      `${report.passed ? 'passed' : 'failed'} (--fail-on ${report.failOn}): ${plural(totals.checks, 'check')}, ${totals.withFindings} with findings, ${totals.enforced} enforced by schema, ${report.durationMs} ms`,
    ),
  );
  return lines;
}
