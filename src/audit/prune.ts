// `audit --prune-history --older-than DAYS`: the history tables grow with every recorded
// audit, repair, undo and key rotation; this keeps them bounded. One transaction deletes,
// older than the cutoff: recorded audit runs with their findings (the latest run always
// stays, so `--history` and incremental audits keep their mark), and whole repair runs
// (their log rows and their run record; such a run can no longer be undone).
import type { Knex } from 'knex';
import { withTransaction } from '../db/transaction.js';
import { REPAIR_LOG_TABLE } from '../repairs/log.js';
import { RUNS_TABLE as OPERATION_RUNS_TABLE } from '../repairs/runs.js';
import { FINDINGS_TABLE, RUNS_TABLE } from './history.js';

export interface PruneResult {
  olderThanDays: number;
  cutoff: Date;
  /** Rows deleted per table. */
  deleted: Record<string, number>;
}

async function present(trx: Knex.Transaction, table: string): Promise<boolean> {
  return (await trx.raw(`select to_regclass(?) is not null as present`, [table])).rows[0].present === true;
}

async function deleted(trx: Knex.Transaction, sql: string, bindings: unknown[]): Promise<number> {
  const result = await trx.raw(`with gone as (${sql} returning 1) select count(*)::int as n from gone`, bindings as Knex.RawBinding[]);
  return Number(result.rows[0].n);
}

export async function pruneHistory(knex: Knex, olderThanDays: number): Promise<PruneResult> {
  return withTransaction(knex, async (trx) => {
    const cutoff = (await trx.raw(`select now() - make_interval(days => ?) as cutoff`, [olderThanDays])).rows[0].cutoff as Date;
    const result: PruneResult = { olderThanDays, cutoff, deleted: {} };
    const count = (table: string, n: number) => {
      result.deleted[table] = (result.deleted[table] ?? 0) + n;
    };
    if ((await present(trx, RUNS_TABLE)) && (await present(trx, FINDINGS_TABLE))) {
      const old = `select run_id from ${RUNS_TABLE} where started_at < ?
                     and run_id <> (select run_id from ${RUNS_TABLE} order by started_at desc, run_id limit 1)`;
      count(FINDINGS_TABLE, await deleted(trx, `delete from ${FINDINGS_TABLE} where run_id in (${old})`, [cutoff]));
      count(RUNS_TABLE, await deleted(trx, `delete from ${RUNS_TABLE} where run_id in (${old})`, [cutoff]));
    }
    const operations = await present(trx, OPERATION_RUNS_TABLE);
    if (await present(trx, REPAIR_LOG_TABLE)) {
      // A run goes whole: none of its rows is newer than the cutoff, nor its record.
      const oldRuns = `select run_id from ${REPAIR_LOG_TABLE} group by run_id having max(changed_at) < ?
                       ${operations ? `except select run_id from ${OPERATION_RUNS_TABLE} where started_at >= ?` : ''}`;
      count(REPAIR_LOG_TABLE, await deleted(trx, `delete from ${REPAIR_LOG_TABLE} where run_id in (${oldRuns})`, operations ? [cutoff, cutoff] : [cutoff]));
    }
    if (operations) {
      count(
        OPERATION_RUNS_TABLE,
        await deleted(
          trx,
          `delete from ${OPERATION_RUNS_TABLE} r where r.started_at < ?
             ${(await present(trx, REPAIR_LOG_TABLE)) ? `and not exists (select 1 from ${REPAIR_LOG_TABLE} l where l.run_id = r.run_id)` : ''}`,
          [cutoff],
        ),
      );
    }
    return result;
  });
}
