// The repair log: every row a repair writes is recorded with its before and after image in
// the same statement that writes it, so a change and its record commit or vanish together.
import type { Knex } from 'knex';
import type { RepairContext } from '../rules/types.js';

export const REPAIR_LOG_TABLE = 'igny8_repair_log';

export async function repairLogExists(knex: Knex | Knex.Transaction): Promise<boolean> {
  const result = await knex.raw(`select to_regclass(?) is not null as present`, [REPAIR_LOG_TABLE]);
  return result.rows[0].present === true;
}

/**
 * Columns never copied into the log: password hashes, and plaintext credentials (the
 * credentials repair logs their encrypted form instead).
 */
const SECRET_COLUMNS: Record<string, string[]> = {
  igny8_users: ['password'],
  igny8_sites: ['wp_app_password', 'wp_api_key'],
};

/** A row as jsonb for the log, secrets left out. */
export function rowImage(table: string, alias: string): string {
  const secrets = SECRET_COLUMNS[table] ?? [];
  return `(to_jsonb(${alias})${secrets.map((column) => ` - '${column}'`).join('')})`;
}

/**
 * Runs `statement`, a data-modifying statement whose RETURNING yields `id`, `before` and
 * `after` (jsonb; before is null for an inserted row), and logs every returned row.
 * Returns how many rows it wrote.
 */
export function writeLogged(
  ctx: RepairContext,
  table: string,
  statement: string,
  bindings: readonly unknown[] = [],
): Promise<number> {
  return writeLoggedAs(ctx.trx, { runId: ctx.runId, checkId: ctx.checkId }, table, statement, bindings);
}

/** writeLogged for a run that is not a rule's repair (an undo): the run and check ids given. */
export async function writeLoggedAs(
  trx: Knex.Transaction,
  run: { runId: string; checkId: string },
  table: string,
  statement: string,
  bindings: readonly unknown[] = [],
): Promise<number> {
  const result = await trx.raw(
    `with changed as (${statement}),
     logged as (
       insert into ${REPAIR_LOG_TABLE} (run_id, check_id, table_name, row_pk, before, after)
       select ?::uuid, ?, ?, jsonb_build_object('id', changed.id), changed.before, changed.after from changed
       returning 1)
     select count(*)::int as written from logged`,
    [...bindings, run.runId, run.checkId, table] as Knex.RawBinding[],
  );
  return Number(result.rows[0].written);
}

/** Adds `count` rows written to `table` into a per-table tally. */
export function tally(counts: Record<string, number>, table: string, count: number): Record<string, number> {
  if (count > 0) counts[table] = (counts[table] ?? 0) + count;
  return counts;
}

/**
 * UPDATE `table` (alias t) SET `set` for the rows `source` selects: `source` returns `id` and
 * any values `set` reads as `src.<column>`. Each row is logged with its before and after
 * image (`image` renders one; default: the row without its secrets).
 */
export function updateLogged(
  ctx: RepairContext,
  table: string,
  set: string,
  source: string,
  bindings: readonly unknown[] = [],
  image: (alias: string) => string = (alias) => rowImage(table, alias),
): Promise<number> {
  return writeLogged(
    ctx,
    table,
    `update ${table} t set ${set}
       from (select s.*, ${image('o')} as before from (${source}) s join ${table} o on o.id = s.id) src
      where t.id = src.id
      returning t.id, src.before, ${image('t')} as after`,
    bindings,
  );
}

/** INSERT INTO `table` (`columns`) `select`, each new row logged with a null "before". */
export function insertLogged(
  ctx: RepairContext,
  table: string,
  columns: string,
  select: string,
  bindings: readonly unknown[] = [],
  image: (alias: string) => string = (alias) => rowImage(table, alias),
): Promise<number> {
  return writeLogged(
    ctx,
    table,
    `insert into ${table} (${columns}) ${select} returning id, null::jsonb as before, ${image(table)} as after`,
    bindings,
  );
}
