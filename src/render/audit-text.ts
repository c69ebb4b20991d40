// The words every audit format shares, so the table, markdown and HTML say the same thing: a
// check's state against --fail-on, its count, a sample's fields, the verdict and the totals.
import { failsGate } from '../audit/gate.js';
import type { AuditReport, CheckResult, FailOn } from '../audit/run.js';
import type { Sample } from '../rules/finding.js';
import { plural } from './text.js';

/** A check's outcome as a reader needs it: findings split by whether they fail the gate. */
export type CheckState = 'fail' | 'warn' | 'ok' | 'suppressed' | 'enforced' | 'n/a' | 'error';

export function checkState(check: CheckResult, failOn: FailOn): CheckState {
  switch (check.status) {
    case 'findings':
      return failsGate(check, failOn) ? 'fail' : 'warn';
    case 'not-applicable':
      return 'n/a';
    default:
      return check.status;
  }
}

/** The count column without colour: rows found, or what stands in for a count. */
export function countText(check: CheckResult): string {
  switch (check.status) {
    case 'findings':
      return check.count.toLocaleString('en-US');
    case 'ok':
      return '0';
    case 'suppressed':
      return `0 (${check.suppressed.toLocaleString('en-US')} suppressed)`;
    case 'enforced':
      return 'enforced';
    case 'not-applicable':
      return 'n/a';
    case 'error':
      return 'ERROR';
  }
}

/** A sample's fields besides key and account, empty ones left out, objects as JSON. */
export function sampleFields(sample: Sample): Array<[string, string]> {
  return Object.entries(sample)
    .filter(([field, value]) => field !== 'key' && field !== 'account' && value !== null && value !== undefined && value !== '')
    .map(([field, value]) => [field, typeof value === 'object' ? JSON.stringify(value) : String(value)]);
}

/** One line per sample: its key, its account, then field=value pairs. */
export function describeSample(sample: Sample): string {
  const fields = sampleFields(sample).map(([field, value]) => `${field}=${value}`);
  return [sample.key, sample.account ? `account=${sample.account}` : '', ...fields].filter(Boolean).join('  ');
}

/** "FAIL (--fail-on error)". */
export function verdictLabel(report: AuditReport): string {
  return `${report.passed ? 'PASS' : 'FAIL'} (--fail-on ${report.failOn})`;
}

/** "20 checks, 3 with findings (5 error rows, 2 warning rows), 1 enforced by schema". */
export function totalsText(report: AuditReport): string {
  const { totals } = report;
  const parts = [
    plural(totals.checks, 'check'),
    `${totals.withFindings} with findings (${plural(totals.errorRows, 'error row')}, ${plural(totals.warningRows, 'warning row')})`,
  ];
  if (totals.enforced) parts.push(`${totals.enforced} enforced by schema`);
  if (totals.notApplicable) parts.push(`${totals.notApplicable} not applicable`);
  if (totals.suppressedRows) parts.push(`${totals.suppressedRows.toLocaleString('en-US')} suppressed`);
  if (totals.errored) parts.push(`${totals.errored} failed to run`);
  return parts.join(', ');
}

/** Samples beyond those shown: "… and 1,204 more", or null. */
export function moreText(check: CheckResult): string | null {
  const more = check.count - check.samples.length;
  return check.status === 'findings' && more > 0 ? `… and ${more.toLocaleString('en-US')} more` : null;
}
