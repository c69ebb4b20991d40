// `audit --format junit`: one testsuite, one testcase per check, a <failure> for a check with
// findings, <error> for a check that could not run, <skipped> for enforced / not applicable.
// CI servers (Jenkins, GitLab, GitHub test reporters) read it as test results.
import type { AuditReport, CheckResult } from '../audit/run.js';

/** XML 1.0 text: escape markup and drop characters XML cannot carry. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(check: CheckResult): string {
  const open = `    <testcase classname="igny8.audit.${check.severity}" name="${xmlEscape(check.id)}" time="${seconds(check.durationMs)}">`;
  let body = '';
  switch (check.status) {
    case 'findings': {
      const samples = check.samples.map((sample) => JSON.stringify(sample)).join('\n');
      const message = `${check.count} ${check.severity === 'error' ? 'errors' : 'warnings'}: ${check.title}`;
      body = `\n      <failure type="${check.severity}" message="${xmlEscape(message)}">${xmlEscape(
        `${samples}${samples ? '\n' : ''}fix: ${check.remedy}`,
      )}</failure>\n    `;
      break;
    }
    case 'error':
      body = `\n      <error type="query" message="${xmlEscape(check.error ?? 'failed')}"/>\n    `;
      break;
    case 'enforced':
      body = `\n      <skipped message="${xmlEscape(`enforced by ${check.enforcedBy}`)}"/>\n    `;
      break;
    case 'not-applicable':
      body = `\n      <skipped message="${xmlEscape(`not applicable: ${check.reason}`)}"/>\n    `;
      break;
    default:
      if (check.notes.length > 0) body = `\n      <system-out>${xmlEscape(check.notes.join('\n'))}</system-out>\n    `;
  }
  return `${open}${body}</testcase>`;
}

export function renderJunit(report: AuditReport): string {
  const { totals } = report;
  const skipped = totals.enforced + totals.notApplicable;
  const attributes = `tests="${totals.checks}" failures="${totals.withFindings}" errors="${totals.errored}" skipped="${skipped}" time="${seconds(report.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="igny8 audit" ${attributes.replace(/ skipped="\d+"/, '')}>`,
    `  <testsuite name="igny8 audit" ${attributes} timestamp="${report.startedAt}">`,
    '    <properties>',
    `      <property name="schemaVersion" value="${xmlEscape(report.schemaVersion ?? '')}"/>`,
    `      <property name="failOn" value="${report.failOn}"/>`,
    ...(report.account ? [`      <property name="account" value="${xmlEscape(report.account)}"/>`] : []),
    ...(report.runId ? [`      <property name="runId" value="${report.runId}"/>`] : []),
    '    </properties>',
    ...report.checks.map(testcase),
    '  </testsuite>',
    '</testsuites>',
  ].join('\n');
}
