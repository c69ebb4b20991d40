// Who ran each operation that changes many rows (a repair, an undo, a key rotation) and why:
// one row per run beside the repair log, with the operator and igny8's version. The table is
// made where it is first needed (a repair runs on the legacy shape, before the migration
// that adds it), the way the key registry is; migration 0041 makes it everywhere.
import type { Knex } from 'knex';
import type { Operator } from '../operator.js';
import { REPAIR_LOG_TABLE } from './log.js';

export const RUNS_TABLE = 'igny8_operation_runs';

export type RunKind = 'repair' | 'undo' | 'rotate-key' | 'billing-run';

export async function ensureRunsTable(knex: Knex | Knex.Transaction): Promise<void> {
  await knex.raw(
    `create table if not exists ${RUNS_TABLE} (
       run_id uuid primary key,
       kind varchar(20) not null,
       check_ids text[] not null default '{}',
       undoes uuid null,
       ran_by text not null,
       reason text null,
       igny8_version text not null,
       started_at timestamptz not null default now(),
       finished_at timestamptz null
     )`,
  );
  await knex.raw(`create unique index if not exists ${RUNS_TABLE}_undoes_key on ${RUNS_TABLE} (undoes)`);
}

export interface RunRecord {
  runId: string;
  kind: RunKind;
  checkIds?: readonly string[];
  /** For an undo: the run it reverts. */
  undoes?: string;
  operator: Operator;
}

/** Records that a run started (creating the table where it is missing). */
export async function recordRunStart(knex: Knex | Knex.Transaction, run: RunRecord): Promise<void> {
  await ensureRunsTable(knex);
  await knex.raw(
    `insert into ${RUNS_TABLE} (run_id, kind, check_ids, undoes, ran_by, reason, igny8_version)
     values (?::uuid, ?, ?::text[], ?::uuid, ?, ?, ?)`,
    [run.runId, run.kind, [...(run.checkIds ?? [])], run.undoes ?? null, run.operator.ranBy, run.operator.reason, run.operator.igny8Version],
  );
}

export async function recordRunEnd(knex: Knex | Knex.Transaction, runId: string): Promise<void> {
  await knex(RUNS_TABLE).where({ run_id: runId }).update({ finished_at: knex.fn.now() });
}

export interface RunSummary {
  runId: string;
  kind: string;
  checkIds: string[];
  startedAt: Date;
  finishedAt: Date | null;
  ranBy: string | null;
  reason: string | null;
  igny8Version: string | null;
  /** Rows the run logged. */
  rows: number;
  /** The run this one undid, or the undo that reverted this one. */
  undoes: string | null;
  undoneBy: string | null;
}

async function tableExists(knex: Knex | Knex.Transaction, table: string): Promise<boolean> {
  return (await knex.raw(`select to_regclass(?) is not null as present`, [table])).rows[0].present === true;
}

/**
 * The latest runs, newest first: those recorded in the runs table and those only the repair
 * log knows (written by an igny8 from before the table).
 */
export async function runHistory(knex: Knex | Knex.Transaction, limit: number, runId?: string): Promise<RunSummary[]> {
  const hasLog = await tableExists(knex, REPAIR_LOG_TABLE);
  const hasRuns = await tableExists(knex, RUNS_TABLE);
  if (!hasLog && !hasRuns) return [];
  const logged = hasLog
    ? `select run_id, min(changed_at) as first_at, max(changed_at) as last_at, count(*)::int as rows,
              array_agg(distinct check_id order by check_id) as check_ids
         from ${REPAIR_LOG_TABLE} ${runId ? 'where run_id = ?::uuid' : ''} group by run_id`
    : `select null::uuid as run_id, null::timestamptz as first_at, null::timestamptz as last_at, 0 as rows, '{}'::text[] as check_ids where false`;
  const runs = hasRuns
    ? `select r.*, (select u.run_id from ${RUNS_TABLE} u where u.undoes = r.run_id) as undone_by
         from ${RUNS_TABLE} r ${runId ? 'where r.run_id = ?::uuid' : ''}`
    : `select null::uuid as run_id, null::text as kind, '{}'::text[] as check_ids, null::uuid as undoes, null::text as ran_by,
              null::text as reason, null::text as igny8_version, null::timestamptz as started_at, null::timestamptz as finished_at,
              null::uuid as undone_by where false`;
  const bindings = runId ? [...(hasLog ? [runId] : []), ...(hasRuns ? [runId] : [])] : [];
  const result = await knex.raw(
    `select coalesce(r.run_id, l.run_id)::text as run_id, coalesce(r.kind, 'repair') as kind,
            coalesce(nullif(r.check_ids, '{}'), l.check_ids, '{}') as check_ids,
            coalesce(r.started_at, l.first_at) as started_at, coalesce(r.finished_at, l.last_at) as finished_at,
            r.ran_by, r.reason, r.igny8_version, coalesce(l.rows, 0) as rows, r.undoes::text as undoes, r.undone_by::text as undone_by
       from (${logged}) l full join (${runs}) r on r.run_id = l.run_id
      order by coalesce(r.started_at, l.first_at) desc, 1
      limit ?`,
    [...bindings, limit],
  );
  return (result.rows as Array<Record<string, any>>).map((row) => ({
    runId: row.run_id,
    kind: row.kind,
    checkIds: row.check_ids ?? [],
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ranBy: row.ran_by,
    reason: row.reason,
    igny8Version: row.igny8_version,
    rows: Number(row.rows),
    undoes: row.undoes,
    undoneBy: row.undone_by,
  }));
}
