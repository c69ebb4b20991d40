// `audit --format junit`: one testsuite, one testcase per check, in the shape Jenkins and
// GitLab read (the Ant JUnit schema). It says what the exit code says: a check whose findings
// fail --fail-on is a <failure>; findings below --fail-on are a passing testcase with their
// count in <system-out>; a check that could not run is an <error>; a check enforced by the
// schema or not applicable is <skipped>. A run that fails with no failing check (none ran:
// fail closed) gets one failing testcase saying why, so a dashboard is never green on exit 1.
import type { AuditReport, CheckResult, FailOn } from '../audit/run.js';
import { failsGate } from '../audit/gate.js';
import { plural } from './text.js';

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

type Outcome = 'passed' | 'failure' | 'error' | 'skipped';

interface Testcase {
  outcome: Outcome;
  xml: string;
}

function findingsText(check: CheckResult): string {
  const samples = check.samples.map((sample) => JSON.stringify(sample));
  return [...samples, `fix: ${check.remedy}`].join('\n');
}

function testcase(check: CheckResult, failOn: FailOn): Testcase {
  const open = `    <testcase name="${xmlEscape(check.id)}" classname="igny8.audit.${check.severity}" time="${seconds(check.durationMs)}">`;
  const notes = check.notes.join('\n');
  const out = (text: string) => (text ? [`      <system-out>${xmlEscape(text)}</system-out>`] : []);
  let outcome: Outcome = 'passed';
  let body: string[];
  switch (check.status) {
    case 'findings':
      if (failsGate(check, failOn)) {
        outcome = 'failure';
        body = [
          `      <failure type="${check.severity}" message="${xmlEscape(`${plural(check.count, check.severity)}: ${check.title}`)}">${xmlEscape(findingsText(check))}</failure>`,
          ...out(notes),
        ];
      } else {
        body = out(
          [`${plural(check.count, check.severity)} below --fail-on ${failOn}: ${check.title}`, findingsText(check), notes].filter(Boolean).join('\n'),
        );
      }
      break;
    case 'error':
      outcome = 'error';
      body = [`      <error type="query" message="${xmlEscape(check.error ?? 'failed')}"/>`, ...out(notes)];
      break;
    case 'enforced':
      outcome = 'skipped';
      body = [`      <skipped message="${xmlEscape(`enforced by ${check.enforcedBy}`)}"/>`];
      break;
    case 'not-applicable':
      outcome = 'skipped';
      body = [`      <skipped message="${xmlEscape(`not applicable: ${check.reason}`)}"/>`];
      break;
    default:
      body = out(notes);
  }
  return { outcome, xml: body.length === 0 ? `${open}</testcase>` : [open, ...body, '    </testcase>'].join('\n') };
}

export function renderJunit(report: AuditReport): string {
  const cases = report.checks.map((check) => testcase(check, report.failOn));
  if (report.exitCode !== 0 && !cases.some((c) => c.outcome === 'failure' || c.outcome === 'error')) {
    const message = report.failure ?? 'the audit failed';
    cases.push({
      outcome: 'failure',
      xml: `    <testcase name="audit" classname="igny8.audit" time="${seconds(report.durationMs)}">\n      <failure type="audit" message="${xmlEscape(message)}"/>\n    </testcase>`,
    });
  }
  // Counted from the testcases written, so the totals and the cases always agree.
  const count = (outcome: Outcome) => cases.filter((c) => c.outcome === outcome).length;
  const totals = `tests="${cases.length}" failures="${count('failure')}" errors="${count('error')}"`;
  const time = `time="${seconds(report.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="igny8 audit" ${totals} ${time}>`,
    // The Ant schema's timestamp carries no zone: this one is UTC.
    `  <testsuite name="igny8 audit" ${totals} skipped="${count('skipped')}" ${time} timestamp="${report.startedAt.slice(0, 19)}">`,
    '    <properties>',
    `      <property name="schemaVersion" value="${xmlEscape(report.schemaVersion ?? '')}"/>`,
    `      <property name="failOn" value="${report.failOn}"/>`,
    `      <property name="exitCode" value="${report.exitCode}"/>`,
    ...(report.account ? [`      <property name="account" value="${xmlEscape(report.account)}"/>`] : []),
    ...(report.runId ? [`      <property name="runId" value="${report.runId}"/>`] : []),
    '    </properties>',
    ...cases.map((c) => c.xml),
    '  </testsuite>',
    '</testsuites>',
  ].join('\n');
}
