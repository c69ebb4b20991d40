// The JUnit report tells a CI dashboard what the exit code tells the pipeline: failures are
// exactly the checks that fail --fail-on, findings below it pass with their count in
// <system-out>, and the document has the shape Jenkins and GitLab read.
import { describe, expect, it } from 'vitest';
import type { AuditReport, CheckResult, FailOn } from '../../src/audit/run.js';
import { renderJunit } from '../../src/render/junit.js';
import { auditReport, checkResult } from '../helpers/audit-reports.js';
import { validateJunit } from '../helpers/junit-shape.js';

function check(id: string, severity: 'error' | 'warning', status: CheckResult['status'], count = 0, extra: Partial<CheckResult> = {}): CheckResult {
  return checkResult(id, {
    severity,
    title: `${id} title with <markup> & "quotes"`,
    remedy: `igny8 repair ${id}`,
    status,
    count,
    samples: count > 0 ? [{ key: `row:${count}`, account: 'acme' }] : [],
    durationMs: 12,
    ...extra,
  });
}

const CHECKS: CheckResult[] = [
  check('orphan-users', 'error', 'findings', 2),
  check('site-access-missing', 'warning', 'findings', 1),
  check('multiple-owners', 'warning', 'findings', 7),
  check('duplicate-emails', 'error', 'ok'),
  check('subscription-plan-missing', 'error', 'enforced', 0, { enforcedBy: 'igny8_subscriptions.plan_id not null' }),
  check('subscription-plan-drift', 'warning', 'not-applicable', 0, { reason: 'no plan_id column yet' }),
  check('plan-catalog-drift', 'error', 'suppressed', 0, { suppressed: 1, notes: ['1 row suppressed by key'] }),
];

const report = (checks: CheckResult[], failOn: FailOn): AuditReport => auditReport(checks, { failOn });

const outcomes = (xml: string) => Object.fromEntries(validateJunit(xml).cases.map((c) => [c.name, c.outcome]));

describe('audit --format junit', () => {
  const cases: Array<{ failOn: FailOn; failing: string[]; exitCode: number }> = [
    { failOn: 'error', failing: ['orphan-users'], exitCode: 1 },
    { failOn: 'warning', failing: ['orphan-users', 'site-access-missing', 'multiple-owners'], exitCode: 1 },
    { failOn: 'never', failing: [], exitCode: 0 },
  ];
  for (const { failOn, failing, exitCode } of cases) {
    it(`--fail-on ${failOn}: failures are exactly the checks that fail the gate (exit ${exitCode})`, () => {
      const r = report(CHECKS, failOn);
      expect(r.exitCode).toBe(exitCode);
      const junit = validateJunit(renderJunit(r));
      expect(junit.cases.filter((c) => c.outcome === 'failure').map((c) => c.name)).toEqual(failing);
      expect(junit.suite.attributes.failures).toBe(String(failing.length));
      expect(junit.suites.attributes.failures).toBe(String(failing.length));
      expect(junit.suite.attributes.errors).toBe('0');
      // A dashboard is red exactly when the pipeline is.
      expect(Number(junit.suite.attributes.failures) + Number(junit.suite.attributes.errors) > 0).toBe(exitCode !== 0);
    });
  }

  it('findings below --fail-on pass, their count and samples in <system-out>', () => {
    const junit = validateJunit(renderJunit(report(CHECKS, 'error')));
    const warning = junit.cases.find((c) => c.name === 'multiple-owners')!;
    expect(warning.outcome).toBe('passed');
    expect(warning.systemOut).toMatch(/^7 warnings below --fail-on error: multiple-owners title with <markup> & "quotes"/);
    expect(warning.systemOut).toContain('"key":"row:7"');
    expect(warning.systemOut).toContain('fix: igny8 repair multiple-owners');
    expect(junit.cases.find((c) => c.name === 'site-access-missing')!.systemOut).toMatch(/^1 warning below --fail-on error/);
  });

  it('a failure names the count in the right plural, with samples and the fix as its text', () => {
    const junit = validateJunit(renderJunit(report(CHECKS, 'warning')));
    const failure = junit.cases.find((c) => c.name === 'site-access-missing')!.element.children[0];
    expect(failure.name).toBe('failure');
    expect(failure.attributes).toEqual({ type: 'warning', message: '1 warning: site-access-missing title with <markup> & "quotes"' });
    expect(failure.text).toContain('fix: igny8 repair site-access-missing');
    const error = junit.cases.find((c) => c.name === 'orphan-users')!.element.children[0];
    expect(error.attributes.message).toMatch(/^2 errors: /);
  });

  it('enforced and not-applicable checks are skipped; suppressions pass with their notes', () => {
    const junit = validateJunit(renderJunit(report(CHECKS, 'error')));
    expect(outcomes(renderJunit(report(CHECKS, 'error')))).toMatchObject({
      'duplicate-emails': 'passed',
      'subscription-plan-missing': 'skipped',
      'subscription-plan-drift': 'skipped',
      'plan-catalog-drift': 'passed',
    });
    expect(junit.suite.attributes).toMatchObject({ tests: '7', skipped: '2', timestamp: '2026-03-02T09:15:00' });
    expect(junit.cases.find((c) => c.name === 'plan-catalog-drift')!.systemOut).toBe('1 row suppressed by key');
  });

  it('a check that could not run is an error, and fails the run at any --fail-on', () => {
    const checks = [...CHECKS, check('ledger-chain-broken', 'error', 'error', 0, { error: 'canceling statement due to statement timeout' })];
    const r = report(checks, 'never');
    expect(r.exitCode).toBe(1);
    const junit = validateJunit(renderJunit(r));
    expect(junit.cases.find((c) => c.name === 'ledger-chain-broken')!.outcome).toBe('error');
    expect(junit.suite.attributes).toMatchObject({ errors: '1', failures: '0' });
  });

  it('a run in which no check ran fails closed, and the report has a failing testcase saying so', () => {
    const checks = [check('subscription-plan-drift', 'warning', 'not-applicable', 0, { reason: 'no plan_id column yet' })];
    const r = report(checks, 'error');
    expect(r.exitCode).toBe(1);
    const junit = validateJunit(renderJunit(r));
    const audit = junit.cases.find((c) => c.name === 'audit')!;
    expect(audit.outcome).toBe('failure');
    expect(audit.element.children[0].attributes.message).toMatch(/no check ran/);
    expect(junit.suite.attributes).toMatchObject({ tests: '2', failures: '1', skipped: '1' });
  });

  it('the shape check itself rejects what a CI server would misread', () => {
    const good = renderJunit(report(CHECKS, 'error'));
    expect(() => validateJunit(good.replace('failures="1"', 'failures="2"'))).toThrow(/failures/);
    expect(() => validateJunit(good.replace('<testcase name="orphan-users"', '<testcase'))).toThrow(/lacks name/);
    expect(() => validateJunit(good.replace(/timestamp="[^"]+"/, 'timestamp="2026-03-01T12:34:56.789Z"'))).toThrow(/timestamp/);
    expect(() => validateJunit(good.replace('<properties>', '<testcase name="x" classname="y" time="0"/><properties>'))).toThrow(/too late/);
  });
});
