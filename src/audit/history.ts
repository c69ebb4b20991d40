// `audit --record`: every run is appended with a fresh run id, never replacing the previous
// one, so drift can be followed over time. The tables come with `igny8 migrate`.
import type { Knex } from 'knex';
import { withTransaction } from '../db/transaction.js';
import { LEDGER_MARK_COLUMN, MARK_COLUMN, pruneJournal, type MarkToRecord } from './journal.js';
import type { AuditReport } from './run.js';

export const RUNS_TABLE = 'igny8_audit_runs';
export const FINDINGS_TABLE = 'igny8_audit_findings';

export async function historyTablesPresent(knex: Knex | Knex.Transaction): Promise<boolean> {
  const result = await knex.raw('select to_regclass(?) is not null as runs, to_regclass(?) is not null as findings', [
    RUNS_TABLE,
    FINDINGS_TABLE,
  ]);
  return Boolean(result.rows[0].runs && result.rows[0].findings);
}

/**
 * Appends the run and one findings row per check, in one transaction. With `mark` (the
 * snapshot a run of every check over every account read, and its ledger bound), the run
 * becomes the one `audit --incremental` counts changes from, and journal rows older than it
 * are dropped.
 */
export async function recordAudit(knex: Knex, report: AuditReport, mark?: MarkToRecord): Promise<void> {
  if (!report.runId) throw new Error('a recorded audit needs a run id');
  const runId = report.runId;
  await withTransaction(knex, async (trx) => {
    await trx(RUNS_TABLE).insert({
      run_id: runId,
      started_at: report.startedAt,
      finished_at: report.finishedAt,
      duration_ms: report.durationMs,
      schema_version: report.schemaVersion,
      account_slug: report.account,
      fail_on: report.failOn,
      exit_code: report.exitCode,
      totals: JSON.stringify(report.totals),
      ...(mark === undefined ? {} : { [MARK_COLUMN]: mark.snapshot }),
      ...(mark?.ledger == null ? {} : { [LEDGER_MARK_COLUMN]: mark.ledger }),
    });
    if (mark !== undefined) await pruneJournal(trx, mark.snapshot);
    await trx(FINDINGS_TABLE).insert(
      report.checks.map((check) => ({
        run_id: runId,
        check_id: check.id,
        severity: check.severity,
        status: check.status,
        count: check.count,
        suppressed: check.suppressed,
        samples: JSON.stringify(check.samples),
      })),
    );
  });
}

export interface RecordedRun {
  runId: string;
  startedAt: string;
  exitCode: number;
  counts: Record<string, number>;
}

/** The recorded runs, oldest first, with each check's count: drift over time. */
export async function auditHistory(knex: Knex | Knex.Transaction, limit = 20): Promise<RecordedRun[]> {
  const result = await knex.raw(
    `select r.run_id, r.started_at, r.exit_code,
            coalesce(jsonb_object_agg(f.check_id, f.count) filter (where f.check_id is not null), '{}') as counts
       from (select * from ${RUNS_TABLE} order by started_at desc, run_id limit ?) r
       left join ${FINDINGS_TABLE} f on f.run_id = r.run_id
      group by r.run_id, r.started_at, r.exit_code
      order by r.started_at, r.run_id`,
    [limit],
  );
  return (result.rows as Array<Record<string, unknown>>).map((row) => ({
    runId: String(row.run_id),
    startedAt: row.started_at instanceof Date ? row.started_at.toISOString() : String(row.started_at),
    exitCode: Number(row.exit_code),
    counts: (typeof row.counts === 'string' ? JSON.parse(row.counts) : row.counts) as Record<string, number>,
  }));
}
