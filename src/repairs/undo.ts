// `repair undo RUN_ID`: puts back, in one transaction, the rows one repair run changed, from
// the before and after images in the repair log.
//
// - A row is put back only while it is as the run left it (its columns as the log's after
//   image has them); if any row changed since, nothing is written and the rows are listed.
// - Rows the run updated get their before values back (only the logged columns: secrets such
//   as password hashes were never logged and are never touched); rows it inserted are
//   deleted, and rows it deleted are inserted again.
// - Ledger rows are never deleted (seed #11): a ledger row the run added gets a correcting
//   row of the opposite amount, chained to the account's last balance_after.
// - Refused, saying why: runs that created accounts (other rows hang off them by then), runs
//   that wrote secrets (nothing to put back), an undo, and a run undone already.
// The undo is a run of its own: its writes are logged under its run id, and the runs table
// records who ran it, why, and which run it reverted.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { withMigrationLock } from '../db/lock.js';
import { withTransaction } from '../db/transaction.js';
import { DomainRefusal, ValidationError } from '../errors.js';
import { currentOperator, type Operator } from '../operator.js';
import { LEDGER } from '../rules/ledger.js';
import { repairableRules } from '../rules/registry.js';
import { plural } from '../render/text.js';
import { REPAIR_LOG_TABLE, repairLogExists, rowImage, writeLoggedAs } from './log.js';
import { recordRunEnd, recordRunStart, runHistory } from './runs.js';

export const UNDO_CHECK_ID = 'undo';
const ACCOUNT_TABLES = ['igny8_accounts', 'igny8_tenants'];
/** Tables whose rows hold credentials, and the runs that write them besides rule repairs. */
const SECRET_TABLES = ['igny8_site_integrations', 'igny8_secret_keys'];
const SECRET_RUNS: Record<string, string> = { 'rotate-key': 'it re-encrypted credentials: the log keeps no key or ciphertext to put back' };
/** Rows listed in a refusal. */
const LISTED = 20;

export interface UndoInput {
  runId: string;
  reason?: string;
}

export interface UndoResult {
  runId: string;
  undoneRunId: string;
  /** Rows written per table: put back, deleted, inserted again, or correcting ledger rows. */
  written: Record<string, number>;
  ledgerCorrections: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TablePlan {
  table: string;
  lastLogId: number;
  rows: number;
}

/** The groups of one table's log rows: per row, its first before and last after image. */
function groupsSql(): string {
  return `select (row_pk->>'id')::bigint as pk,
                 (array_agg(before order by id))[1] as before,
                 (array_agg(after order by id desc))[1] as after
            from ${REPAIR_LOG_TABLE} where run_id = ?::uuid and table_name = ? group by 1`;
}

/** The row's current values of the columns `image` has, as jsonb (null when the row is gone). */
function currentSql(table: string, alias: string, image: string): string {
  return `(select coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) from jsonb_each(to_jsonb(${alias})) e where jsonb_exists(${image}, e.key))`;
}

async function columnsOf(trx: Knex.Transaction, table: string): Promise<Set<string> | undefined> {
  const result = await trx.raw(
    `select attname from pg_attribute where attrelid = to_regclass(?) and attnum > 0 and not attisdropped`,
    [table],
  );
  const names = (result.rows as Array<{ attname: string }>).map((row) => row.attname);
  return names.length === 0 ? undefined : new Set(names);
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** Why the run cannot be undone at all, if it cannot. */
async function refusalReason(trx: Knex.Transaction, runId: string, tables: TablePlan[]): Promise<string | undefined> {
  const [run] = await runHistory(trx, 1, runId);
  if (run?.kind === 'undo') return 'it is an undo itself: run the repair again instead';
  if (run?.undoneBy) return `it was undone already, by run ${run.undoneBy}`;
  const checks = (
    await trx.raw(`select distinct check_id from ${REPAIR_LOG_TABLE} where run_id = ?::uuid order by 1`, [runId])
  ).rows as Array<{ check_id: string }>;
  const secretWriters: Record<string, string> = { ...SECRET_RUNS };
  for (const rule of repairableRules()) if (rule.repair?.writesSecrets) secretWriters[rule.id] = rule.repair.writesSecrets;
  for (const { check_id: checkId } of checks) {
    if (checkId === UNDO_CHECK_ID) return 'it is an undo itself: run the repair again instead';
    if (secretWriters[checkId]) return `its ${checkId} step cannot be undone: ${secretWriters[checkId]}`;
  }
  const secret = tables.find((plan) => SECRET_TABLES.includes(plan.table));
  if (secret) return `it changed ${secret.table}, which holds credentials: the log keeps no secret to put back`;
  const created = (
    await trx.raw(
      `select count(*)::int as n from ${REPAIR_LOG_TABLE} where run_id = ?::uuid and table_name = any(?::text[]) and before is null`,
      [runId, ACCOUNT_TABLES],
    )
  ).rows[0].n as number;
  if (created > 0) {
    return `it created ${plural(created, 'account')}: other rows belong to them by now; a person decides what to remove`;
  }
  return undefined;
}

/** Rows (of tables other than the ledger) that differ from how the run left them. */
async function changedSince(trx: Knex.Transaction, runId: string, table: string): Promise<string[]> {
  const rows = (
    await trx.raw(
      `with g as (${groupsSql()})
       select g.pk from g left join ${quote(table)} t on t.id = g.pk
        where case when g.after is null then t.id is not null
                   else t.id is null or ${currentSql(table, 't', 'g.after')} is distinct from g.after end
        order by g.pk limit ${LISTED + 1}`,
      [runId, table],
    )
  ).rows as Array<{ pk: number | string }>;
  return rows.map((row) => `${table} id ${row.pk}`);
}

/** Ledger rows the run added that are gone (history is immutable: only a manual delete does that). */
async function ledgerGone(trx: Knex.Transaction, runId: string): Promise<string[]> {
  const rows = (
    await trx.raw(
      `with g as (${groupsSql()})
       select g.pk from g left join ${LEDGER} t on t.id = g.pk where t.id is null or g.before is not null order by g.pk limit ${LISTED + 1}`,
      [runId, LEDGER],
    )
  ).rows as Array<{ pk: number | string }>;
  return rows.map((row) => `${LEDGER} id ${row.pk}`);
}

/** Logs the undo's writes: `statement` returns id, before, after. */
function logged(trx: Knex.Transaction, undoRunId: string, table: string, statement: string, bindings: unknown[]): Promise<number> {
  return writeLoggedAs(trx, { runId: undoRunId, checkId: UNDO_CHECK_ID }, table, statement, bindings);
}

async function revertTable(trx: Knex.Transaction, runId: string, undoRunId: string, table: string): Promise<number> {
  const columns = await columnsOf(trx, table);
  if (!columns) throw new DomainRefusal(`${table} no longer exists (a migration renamed or dropped it since): the run cannot be undone`, { code: 'undo-schema-changed' });
  const imageKeys = (
    await trx.raw(
      `select distinct k from ${REPAIR_LOG_TABLE}, jsonb_object_keys(coalesce(before, after)) k where run_id = ?::uuid and table_name = ?`,
      [runId, table],
    )
  ).rows as Array<{ k: string }>;
  const missing = imageKeys.map((row) => row.k).filter((key) => !columns.has(key));
  if (missing.length > 0) {
    throw new DomainRefusal(`${table} has no column ${missing.join(', ')} any more (a migration changed it since): the run cannot be undone`, {
      code: 'undo-schema-changed',
    });
  }
  const settable = imageKeys.map((row) => row.k).filter((key) => key !== 'id');
  const q = quote(table);
  // Secrets (password hashes) are neither logged nor written back: the images leave them out.
  const image = (alias: string) => rowImage(table, alias);
  let written = 0;
  // Rows the run inserted: deleted.
  written += await logged(
    trx,
    undoRunId,
    table,
    `delete from ${q} t using (${groupsSql()}) g where g.before is null and t.id = g.pk returning t.id, ${image('t')} as before, null::jsonb as after`,
    [runId, table],
  );
  // Rows the run updated: their logged columns back.
  if (settable.length > 0) {
    written += await logged(
      trx,
      undoRunId,
      table,
      `update ${q} t set ${settable.map((c) => `${quote(c)} = r.${quote(c)}`).join(', ')}
         from (select g.pk, ${image('o')} as previous, r.*
                 from (${groupsSql()}) g join ${q} o on o.id = g.pk
                 cross join lateral jsonb_populate_record(null::${q}, g.before) r
                where g.before is not null and g.after is not null) r
        where t.id = r.pk
        returning t.id, r.previous as before, ${image('t')} as after`,
      [runId, table],
    );
    // Rows the run deleted: inserted again.
    written += await logged(
      trx,
      undoRunId,
      table,
      `insert into ${q} (id, ${settable.map(quote).join(', ')})
       select r.id, ${settable.map((c) => `r.${quote(c)}`).join(', ')}
         from (${groupsSql()}) g cross join lateral jsonb_populate_record(null::${q}, g.before) r
        where g.after is null
       returning id, null::jsonb as before, ${image(q)} as after`,
      [runId, table],
    );
  }
  return written;
}

/**
 * A correcting row for each ledger row the run added, chained to the account's last row. It
 * carries the original's metadata (what a rule recognises its rows by, as the shortfall
 * correction's marker), so the rule counts the pair as nothing.
 */
async function correctLedger(trx: Knex.Transaction, runId: string, undoRunId: string): Promise<number> {
  return logged(
    trx,
    undoRunId,
    LEDGER,
    `insert into ${LEDGER} (account_id, transaction_type, amount, balance_after, description, metadata)
     select c.account_id, 'adjustment', -c.amount,
            last.balance_after + sum(-c.amount) over (partition by c.account_id order by c.id),
            left('undo of repair run ' || ?::text || ': ledger entry ' || c.id, 255),
            c.metadata || jsonb_build_object('undo_run', ?::text, 'undoes_run', ?::text, 'undoes_entry', c.id)
       from (${groupsSql()}) g join ${LEDGER} c on c.id = g.pk
       cross join lateral (select l.balance_after from ${LEDGER} l where l.account_id = c.account_id order by l.id desc limit 1) last
      where g.before is null
      order by c.account_id, c.id
     returning id, null::jsonb as before, ${rowImage(LEDGER, LEDGER)} as after`,
    [runId, undoRunId, runId, runId, LEDGER],
  );
}

/** Reverts one repair run; `input.runId` is the run's id as `repair --history` shows it. */
export async function undoRepairRun(db: Database, input: UndoInput, operator: Operator = currentOperator(input.reason)): Promise<UndoResult> {
  if (!UUID.test(input.runId)) throw new ValidationError('RUN_ID', 'must be a run id as `igny8 repair --history` shows it');
  if (!(await repairLogExists(db.knex))) throw new ValidationError('RUN_ID', `no repair run ${input.runId}: there is no repair log yet`);
  const undoRunId = randomUUID();
  return withMigrationLock(db, () =>
    withTransaction(db.knex, async (trx) => {
      const tables = (
        await trx.raw(
          `select table_name as table, max(id) as last_log_id, count(*)::int as rows
             from ${REPAIR_LOG_TABLE} where run_id = ?::uuid group by table_name order by max(id) desc`,
          [input.runId],
        )
      ).rows.map((row: Record<string, unknown>) => ({ table: String(row.table), lastLogId: Number(row.last_log_id), rows: Number(row.rows) })) as TablePlan[];
      if (tables.length === 0) {
        throw new ValidationError('RUN_ID', `no repair run ${input.runId} changed any row (igny8 repair --history lists the runs)`);
      }
      const why = await refusalReason(trx, input.runId, tables);
      if (why) throw new DomainRefusal(`repair run ${input.runId} cannot be undone: ${why}`, { code: 'undo-refused' });

      // Lock every row first, so none changes between the comparison and the write.
      for (const { table } of tables) {
        await trx.raw(
          `select t.id from ${quote(table)} t where t.id in (select (row_pk->>'id')::bigint from ${REPAIR_LOG_TABLE}
             where run_id = ?::uuid and table_name = ?) order by t.id for update`,
          [input.runId, table],
        );
      }
      const changed: string[] = [];
      for (const { table } of tables) {
        changed.push(...(table === LEDGER ? await ledgerGone(trx, input.runId) : await changedSince(trx, input.runId, table)));
      }
      if (changed.length > 0) {
        throw new DomainRefusal(`repair run ${input.runId} cannot be undone: rows changed since it ran; nothing was written`, {
          code: 'undo-rows-changed',
          details: [...changed.slice(0, LISTED), ...(changed.length > LISTED ? ['…'] : [])],
        });
      }

      await recordRunStart(trx, { runId: undoRunId, kind: 'undo', undoes: input.runId, operator });
      const result: UndoResult = { runId: undoRunId, undoneRunId: input.runId, written: {}, ledgerCorrections: 0 };
      // Newest first: rows a run wrote last may hang off rows it wrote before.
      for (const { table } of tables) {
        const count = table === LEDGER ? await correctLedger(trx, input.runId, undoRunId) : await revertTable(trx, input.runId, undoRunId, table);
        if (table === LEDGER) result.ledgerCorrections = count;
        if (count > 0) result.written[table] = count;
      }
      await recordRunEnd(trx, undoRunId);
      return result;
    }),
  );
}

