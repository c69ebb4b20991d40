// The audit runner: suppressions (counted in SQL, with and without expiry), the verdict
// against --fail-on, fail-closed behaviour, --account, and --record history.
import { beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/audit/config.js';
import { auditHistory } from '../../src/audit/history.js';
import { runAudit, type AuditReport } from '../../src/audit/run.js';
import { findRule, RULES } from '../../src/rules/registry.js';
import type { Rule } from '../../src/rules/types.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { makeAccount, shapeOf } from '../helpers/check-fixtures.js';

const only = (...ids: string[]) => ids.map((id) => findRule(id)!);
const result = (report: AuditReport, id: string) => report.checks.find((check) => check.id === id)!;
const NOW = new Date('2026-06-15T12:00:00Z');

describeEachDatabase(
  'audit runner on a legacy database',
  (fixture) => {
    let drifted: number[] = [];
    let slug = '';

    // Three drifted balances and a warning-only finding to work with.
    beforeAll(async () => {
      await fixture.db.knex.transaction(async (trx) => {
        const shape = await shapeOf(trx);
        for (let index = 0; index < 3; index++) {
          const account = await makeAccount(trx);
          await trx(shape.accounts).where({ id: account.id }).increment('credits', 1 + index);
          drifted.push(account.id);
        }
        const warned = await makeAccount(trx, { plan: 'growth', sites: 2 });
        await trx('igny8_site_user_access').where({ site_id: warned.siteIds[1] }).delete();
        slug = (await makeAccount(trx)).slug;
      });
      drifted = drifted.sort((a, b) => a - b);
    });

    it('finds the three drifted balances and the warning-only finding, and fails the run', async () => {
      const report = await runAudit(fixture.db.knex, { checks: only('credit-balance-drift', 'site-access-missing'), now: NOW });
      expect(result(report, 'credit-balance-drift').count).toBe(3);
      expect(result(report, 'site-access-missing').count).toBe(1);
      expect(report.exitCode).toBe(1);
    });

    it('subtracts suppressed keys in SQL, exactly, even beyond the sample', async () => {
      const report = await runAudit(fixture.db.knex, {
        checks: only('credit-balance-drift'),
        sample: 1,
        now: NOW,
        suppressions: [{ check: 'credit-balance-drift', keys: [`account:${drifted[2]}`, 'account:999999'], reason: 'known' }],
      });
      const drift = result(report, 'credit-balance-drift');
      expect(drift.count).toBe(2);
      expect(drift.suppressed).toBe(1);
      expect(drift.samples.map((sample) => sample.key)).toEqual([`account:${drifted[0]}`]);
    });

    it('silences a whole check until its date, then counts it again and says so', async () => {
      const suppression = { check: 'credit-balance-drift', reason: 'migration next week', until: '2026-06-15' };
      const active = await runAudit(fixture.db.knex, { checks: only('credit-balance-drift'), now: NOW, suppressions: [suppression] });
      expect(result(active, 'credit-balance-drift')).toMatchObject({ status: 'suppressed', count: 0, suppressed: 3 });
      expect(active.exitCode).toBe(0);
      const later = new Date('2026-06-16T00:00:01Z');
      const expired = await runAudit(fixture.db.knex, { checks: only('credit-balance-drift'), now: later, suppressions: [suppression] });
      const drift = result(expired, 'credit-balance-drift');
      expect(drift).toMatchObject({ status: 'findings', count: 3, suppressed: 0 });
      expect(drift.notes.join('\n')).toMatch(/expired on 2026-06-15: counted again \(migration next week\)/);
      expect(expired.exitCode).toBe(1);
    });

    it('an expired key suppression counts its row again', async () => {
      const report = await runAudit(fixture.db.knex, {
        checks: only('credit-balance-drift'),
        now: NOW,
        suppressions: [{ check: 'credit-balance-drift', keys: [`account:${drifted[0]}`], reason: 'r', until: '2026-01-01' }],
      });
      expect(result(report, 'credit-balance-drift')).toMatchObject({ count: 3, suppressed: 0 });
      expect(result(report, 'credit-balance-drift').notes.join()).toMatch(new RegExp(`account:${drifted[0]} expired`));
    });

    it('gates on --fail-on: warnings pass at error, fail at warning, nothing fails at never', async () => {
      const checks = only('site-access-missing');
      expect((await runAudit(fixture.db.knex, { checks, failOn: 'error' })).exitCode).toBe(0);
      expect((await runAudit(fixture.db.knex, { checks, failOn: 'warning' })).exitCode).toBe(1);
      expect((await runAudit(fixture.db.knex, { checks: only('credit-balance-drift'), failOn: 'never' })).exitCode).toBe(0);
    });

    it('scopes every check to one account, and names --account when the slug is unknown', async () => {
      const report = await runAudit(fixture.db.knex, { accountSlug: slug });
      expect(report.totals.rows).toBe(0);
      expect(report.account).toBe(slug);
      await expect(runAudit(fixture.db.knex, { accountSlug: 'no-such-account' })).rejects.toThrow(ValidationError);
      await expect(runAudit(fixture.db.knex, { accountSlug: 'no-such-account' })).rejects.toThrow(/--account/);
    });

    it('reports a check whose query fails as an error and fails the run, while the others still run', async () => {
      const broken: Rule = { ...findRule('orphan-users')!, id: 'broken', verdict: () => undefined, findings: () => ({ sql: 'select * from no_such_table' }) };
      const report = await runAudit(fixture.db.knex, { checks: [broken, ...only('credit-balance-drift')], failOn: 'never' });
      expect(result(report, 'broken').status).toBe('error');
      expect(result(report, 'broken').error).toMatch(/no_such_table.*42P01/);
      expect(result(report, 'credit-balance-drift').count).toBe(3);
      expect(report.exitCode).toBe(1);
      expect(report.failure).toMatch(/broken/);
    });

    // The embedded database has one connection: there is nothing to spread the checks over.
    it.runIf(fixture.kind === 'postgres')('on a server, checks on several connections share one snapshot and give the same counts', async () => {
      const one = await runAudit(fixture.db.knex, { failOn: 'never' });
      const three = await runAudit(fixture.db.knex, { failOn: 'never', concurrency: 3 });
      expect(three.checks.map((c) => [c.id, c.status, c.count])).toEqual(one.checks.map((c) => [c.id, c.status, c.count]));
    });

    it('fails closed when no check ran', async () => {
      const report = await runAudit(fixture.db.knex, { checks: only('subscription-plan-missing', 'subscription-plan-drift') });
      expect(report.exitCode).toBe(1);
      expect(report.failure).toMatch(/no check ran/);
    });

    it('refuses --record before `igny8 migrate` adds the history tables', async () => {
      const attempt = runAudit(fixture.db.knex, { record: true });
      await expect(attempt).rejects.toThrow(DomainRefusal);
      await expect(runAudit(fixture.db.knex, { record: true })).rejects.toThrow(/igny8 migrate/);
    });
  },
  { setup: (t) => prepareDatabase(t.db, 'legacy') },
);

describeEachDatabase(
  'audit runner on an empty database',
  (fixture) => {
    it('refuses to pass when there are no igny8 tables', async () => {
      await expect(runAudit(fixture.db.knex)).rejects.toThrow(/no igny8 tables/);
    });
  },
);

describeEachDatabase(
  'audit --record history on a migrated database',
  (fixture) => {
    it('appends every run with a fresh run id; earlier runs stay', async () => {
      const first = await runAudit(fixture.db.knex, { record: true });
      await fixture.db.knex.transaction(async (trx) => {
        const account = await makeAccount(trx);
        await trx('igny8_accounts').where({ id: account.id }).increment('credits', 7);
      });
      const second = await runAudit(fixture.db.knex, { record: true });
      expect(first.runId).toMatch(/^[0-9a-f-]{36}$/);
      expect(second.runId).not.toBe(first.runId);
      const history = await auditHistory(fixture.db.knex);
      expect(history.map((run) => run.runId)).toEqual([first.runId, second.runId]);
      expect(history[0].counts['credit-balance-drift']).toBe(0);
      expect(history[1].counts['credit-balance-drift']).toBe(1);
      expect(history[1].exitCode).toBe(1);
      const findings = await fixture.db.knex('igny8_audit_findings').where({ run_id: second.runId });
      expect(findings).toHaveLength(RULES.length);
      expect(second.schemaVersion).toMatch(/^\d{4}_/);
    });
  },
  { setup: (t) => prepareDatabase(t.db, 'target') },
);

it('config: a suppression needs a reason, a known check and a real date; errors name the key path', () => {
  const bad = (value: unknown) => () => parseConfig(value, 'igny8.config.json');
  expect(bad({ audit: { suppressions: [{ check: 'orphan-users' }] } })).toThrow(/audit\.suppressions\[0\]\.reason/);
  expect(bad({ audit: { suppressions: [{ check: 'nope', reason: 'x' }] } })).toThrow(/audit\.suppressions\[0\]\.check: unknown check id/);
  expect(bad({ audit: { suppressions: [{ check: 'orphan-users', reason: 'x', until: '2026-02-30' }] } })).toThrow(/until/);
  expect(bad({ audit: { suppressions: [{ check: 'orphan-users', reason: 'x', key: 'user:1' }] } })).toThrow(/audit\.suppressions\[0\]\.key/);
  expect(bad({ audits: {} })).toThrow(/audits/);
  expect(parseConfig({ audit: { suppressions: [{ check: 'orphan-users', keys: ['user:1'], reason: 'x', until: '2026-12-31' }] } }, 'f').suppressions).toHaveLength(1);
});
