// audit --prune-history --older-than DAYS: old recorded audits and whole old repair runs go,
// the latest audit run and everything newer stay, in one transaction.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { pruneHistory } from '../../src/audit/prune.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { all } from '../helpers/sql.js';

describeEachDatabase(
  'audit --prune-history',
  (fx) => {
    it('deletes what is older than the cutoff, keeps the latest audit run and newer rows', async () => {
      const knex = fx.db.knex;
      const audit = async (daysAgo: number) => {
        const runId = randomUUID();
        await knex.raw(
          `insert into igny8_audit_runs (run_id, started_at, finished_at, duration_ms, fail_on, exit_code)
           values (?, now() - make_interval(days => ?), now() - make_interval(days => ?), 1, 'error', 0)`,
          [runId, daysAgo, daysAgo],
        );
        await knex.raw(`insert into igny8_audit_findings (run_id, check_id, severity, status, count) values (?, 'orphan-users', 'error', 'ok', 0)`, [runId]);
        return runId;
      };
      const repairRun = async (daysAgo: number[]) => {
        const runId = randomUUID();
        for (const days of daysAgo) {
          await knex.raw(
            `insert into igny8_repair_log (run_id, check_id, table_name, row_pk, before, after, changed_at)
             values (?, 'site-access-missing', 'igny8_site_user_access', '{"id": 1}', null, '{}', now() - make_interval(days => ?))`,
            [runId, days],
          );
        }
        await knex.raw(
          `insert into igny8_operation_runs (run_id, kind, ran_by, igny8_version, started_at) values (?, 'repair', 'ops', '0.1.0', now() - make_interval(days => ?))`,
          [runId, Math.max(...daysAgo)],
        );
        return runId;
      };
      const oldAudit = await audit(100);
      const latestAudit = await audit(95); // the latest recorded run, old as it is
      const oldRepair = await repairRun([100, 99]);
      const straddling = await repairRun([100, 1]); // a run with a recent row stays whole
      const recentRepair = await repairRun([2]);

      const result = await pruneHistory(knex, 30);
      expect(result.deleted).toEqual({ igny8_audit_findings: 1, igny8_audit_runs: 1, igny8_repair_log: 2, igny8_operation_runs: 1 });
      const audits = await all<{ run_id: string }>(knex, `select run_id from igny8_audit_runs`);
      expect(audits.map((row) => row.run_id)).toEqual([latestAudit]);
      expect(audits.map((row) => row.run_id)).not.toContain(oldAudit);
      const repairs = await all<{ run_id: string }>(knex, `select distinct run_id from igny8_repair_log order by 1`);
      expect(repairs.map((row) => row.run_id).sort()).toEqual([straddling, recentRepair].sort());
      const runs = await all<{ run_id: string }>(knex, `select run_id from igny8_operation_runs`);
      expect(runs.map((row) => row.run_id)).not.toContain(oldRepair);
      expect((await pruneHistory(knex, 30)).deleted).toEqual({ igny8_audit_findings: 0, igny8_audit_runs: 0, igny8_repair_log: 0, igny8_operation_runs: 0 });
    });
  },
  { migrated: true },
);
