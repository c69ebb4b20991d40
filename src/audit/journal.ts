// The change journal: which accounts had tenant rows written, so `audit --incremental` audits
// those accounts and not the whole database.
//
// Statement-level triggers with transition tables append one row per account a statement
// touched (not per row), tagged with the writing transaction's id. A recorded audit stores
// its snapshot as the mark; the accounts changed since are those of journal rows whose
// transaction that snapshot does not see. A transaction still running when the mark was
// taken is therefore counted as a change, whenever it commits: no sequence gap or clock can
// lose a change. A write to a shared table (plans, industries) or a TRUNCATE journals a NULL
// account: every account may be affected.
//
// The trigger functions are SECURITY DEFINER: an application role that writes tenant rows
// needs no grant on the journal, so adding it (phase expand) cannot break a running client.
// They name every relation with its schema, and operators resolve in pg_catalog first, so the
// caller's search_path cannot redirect them; a SET search_path clause would cost every write
// a configuration change and back (bench/RESULTS.md, "Incremental audits").
//
// The ledger is the exception (migration 0074), because every credit change writes it. It is
// append-only (its own triggers refuse UPDATE, DELETE and TRUNCATE), so its inserts need no
// journal row: the ledger rows after a recorded run's ledger bound name their accounts
// themselves. A recorded run first waits for the transactions then writing the ledger, so
// every row at or below the bound is settled before its snapshot is taken. The credit
// service's statement, which moves an account's balance and writes that account's ledger row
// together, marks itself (LEDGERED_STATEMENT), and the update trigger leaves it to the ledger:
// a grant writes no journal row at all (bench/RESULTS.md).
import type { Knex } from 'knex';
import { LEDGER } from '../rules/ledger.js';
import { readTenancy } from '../schema/tenancy.js';

export const JOURNAL_TABLE = 'igny8_account_changes';
/** The column of igny8_audit_runs holding a recorded run's snapshot. */
export const MARK_COLUMN = 'journal_mark';
/** The column of igny8_audit_runs holding a recorded run's ledger bound. */
export const LEDGER_MARK_COLUMN = 'journal_ledger_mark';

/** The append-only table whose inserts are read from the table itself, by id: the ledger. */
export const LEDGER_TABLE = LEDGER;

const LEDGERED_SETTING = 'igny8.ledgered_statement';

/**
 * A statement that moves balances and writes, in itself, a ledger row for every account whose
 * row it updates may say so: this condition, in its UPDATE's WHERE, sets a transaction-local
 * setting (and is true). The accounts' update trigger, which fires once at the end of every
 * UPDATE statement, finds it, clears it and journals nothing: the ledger rows name the
 * accounts. The statement's next one in the transaction is journaled as any other, and a
 * statement that fails takes the setting with it (its transaction or savepoint is rolled back).
 * Why: the trigger runs while the statement still holds the account's row lock, so on an
 * account many clients grant to at once its insert lengthens every grant's wait
 * (bench/RESULTS.md). In the WHERE rather than joined as a subquery: half the instructions.
 */
export const LEDGERED_STATEMENT = `set_config('${LEDGERED_SETTING}', 'on', true) is not null`;

type Argument = 'id' | 'account_id' | 'shared';

/**
 * The transition tables each event's trigger captures. An update captures the old rows only
 * where the account column can change (a row moved to another account changes both): an
 * account's id and a shared table's "every account" are told by the new rows alone, and
 * capturing less is cheaper on every write.
 */
const TRIGGERS = [
  { name: 'igny8_journal_insert', event: 'insert', fn: 'igny8_journal_inserted', rows: () => ['new_rows'] },
  {
    name: 'igny8_journal_update',
    event: 'update',
    fn: 'igny8_journal_updated',
    rows: (argument: Argument) => (argument === 'account_id' ? ['old_rows', 'new_rows'] : ['new_rows']),
  },
  { name: 'igny8_journal_delete', event: 'delete', fn: 'igny8_journal_deleted', rows: () => ['old_rows'] },
  { name: 'igny8_journal_truncate', event: 'truncate', fn: 'igny8_journal_truncated', rows: () => [] },
] as const;

function referencing(rows: readonly string[]): string {
  if (rows.length === 0) return '';
  return `referencing ${rows.map((transition) => `${transition === 'old_rows' ? 'old' : 'new'} table as ${transition}`).join(' ')}`;
}

export const JOURNAL_TRIGGER_NAMES: readonly string[] = TRIGGERS.map((trigger) => trigger.name);

type Querier = Knex | Knex.Transaction;

/**
 * One function per event, told by its argument which column names the account: 'id' (the
 * accounts table), 'account_id', or nothing (a shared table). PL/pgSQL plans each branch the
 * first time it runs, per trigger, so every table gets a cached plan for its own column.
 */
function functionSql(schema: string, trigger: (typeof TRIGGERS)[number]): string {
  const journal = `${schema}.${JOURNAL_TABLE}`;
  const from = (argument: Argument, column: string) =>
    trigger.rows(argument).map((transition) => `select ${column} from ${transition}`).join(' union ');
  // The mark of a statement that wrote its own ledger rows is cleared here, at its end. (An
  // assignment, not PERFORM: a simple expression is evaluated without the executor.)
  const ledgered =
    trigger.event === 'update'
      ? `if current_setting('${LEDGERED_SETTING}', true) = 'on' then
           cleared := set_config('${LEDGERED_SETTING}', '', true);
           return null;
         end if;`
      : '';
  const body =
    trigger.event === 'truncate'
      ? `insert into ${journal} (account_id) values (null);`
      : `${ledgered}
         if TG_ARGV[0] = 'id' then
           insert into ${journal} (account_id) select distinct x.id from (${from('id', 'id')}) x;
         elsif TG_ARGV[0] = 'account_id' then
           insert into ${journal} (account_id) select distinct x.account_id from (${from('account_id', 'account_id')}) x where x.account_id is not null;
         elsif exists (${from('shared', '1')}) then
           insert into ${journal} (account_id) values (null);
         end if;`;
  return `create or replace function ${schema}.${trigger.fn}() returns trigger
            language plpgsql security definer as $$
          declare
            cleared text;
          begin
            ${body}
            return null;
          end $$`;
}

async function currentSchema(knex: Querier): Promise<string> {
  const result = await knex.raw('select quote_ident(current_schema()) as name');
  return String(result.rows[0].name);
}

/** The journal table and its trigger functions; idempotent. */
export async function createJournal(trx: Knex.Transaction): Promise<void> {
  await trx.raw(`create table if not exists ${JOURNAL_TABLE} (
    xid xid8 not null default pg_current_xact_id(),
    account_id bigint null
  )`);
  // Changes since a mark are read as a range from the mark's oldest running transaction.
  await trx.raw(`create index if not exists ${JOURNAL_TABLE}_xid_idx on ${JOURNAL_TABLE} (xid)`);
  await replaceJournalFunctions(trx);
}

/** The trigger functions as this version writes them (CREATE OR REPLACE: no table is locked). */
export async function replaceJournalFunctions(trx: Knex.Transaction): Promise<void> {
  const schema = await currentSchema(trx);
  for (const trigger of TRIGGERS) await trx.raw(functionSql(schema, trigger));
}

/**
 * The order in which the application's transactions write the tenant tables (a signup writes
 * the user, the account and its status history, then the ledger, the subscription, the payment
 * method and the invoice; sites come before their sectors, integrations and access rows).
 * Tables not listed follow, by name.
 */
const WRITE_ORDER = [
  'igny8_users', 'igny8_accounts', 'igny8_account_status_history', 'igny8_credit_transactions', 'igny8_subscriptions',
  'igny8_account_payment_methods', 'igny8_invoices', 'igny8_sites', 'igny8_sectors', 'igny8_site_integrations',
  'igny8_site_user_access',
];

/**
 * Puts the journal's triggers on every tenant table that names its account and on every
 * shared table, replacing any already there. A migration that adds a tenant table calls this
 * too; the distribution lint fails for a tenant table without them.
 */
export async function attachJournal(trx: Knex.Transaction): Promise<string[]> {
  const tenancy = await readTenancy(trx);
  const watched: Array<{ table: string; argument: Argument }> = [
    ...tenancy.tenant.filter((t) => t.accountColumn !== null).map((t) => ({ table: t.table, argument: t.accountColumn! })),
    ...tenancy.reference.map((table) => ({ table, argument: 'shared' as const })),
  ];
  // Every table locked in one statement before the first trigger, in the order the running
  // application writes them (see WRITE_ORDER): one table at a time, a migration holding some
  // tables while an application transaction holding another waits for them never gets the rest.
  const rank = (table: string) => (WRITE_ORDER.includes(table) ? WRITE_ORDER.indexOf(table) : WRITE_ORDER.length);
  const tables = watched.map((w) => w.table).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (tables.length > 0) await trx.raw(`lock table ${tables.join(', ')} in share row exclusive mode`);
  const journal = (await readJournal(trx)) ?? { ledgerBound: false };
  for (const { table, argument } of watched) {
    for (const trigger of triggersOn(table, journal)) {
      await trx.raw(`drop trigger if exists ${trigger.name} on ${table}`);
      await trx.raw(triggerSql(table, trigger, argument));
    }
  }
  return watched.map((w) => w.table);
}

function triggerSql(table: string, trigger: (typeof TRIGGERS)[number], argument: Argument): string {
  return `create trigger ${trigger.name} after ${trigger.event} on ${table} ${referencing(trigger.rows(argument))}
            for each statement execute function ${trigger.fn}('${argument}')`;
}

/** The insert trigger the ledger carried before its inserts were read by id (a down migration puts it back). */
export async function attachLedgerInsertTrigger(trx: Knex.Transaction): Promise<void> {
  const insert = TRIGGERS.find((trigger) => trigger.event === 'insert')!;
  await trx.raw(`drop trigger if exists ${insert.name} on ${LEDGER_TABLE}`);
  await trx.raw(triggerSql(LEDGER_TABLE, insert, 'account_id'));
}

/** The journal's triggers a table carries: all four, but the ledger's inserts name themselves once it is read by id. */
export function triggersOn(table: string, journal: Journal): ReadonlyArray<(typeof TRIGGERS)[number]> {
  return table === LEDGER_TABLE && journal.ledgerBound ? TRIGGERS.filter((trigger) => trigger.event !== 'insert') : TRIGGERS;
}

/** Removes the triggers, the functions and the journal (the down migration). */
export async function dropJournal(trx: Knex.Transaction): Promise<void> {
  const tables = (
    await trx.raw(
      `select distinct c.relname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
         join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and t.tgname = any(?)`,
      [JOURNAL_TRIGGER_NAMES as string[]],
    )
  ).rows as Array<{ name: string }>;
  for (const { name } of tables) {
    for (const trigger of TRIGGERS) await trx.raw(`drop trigger if exists ${trigger.name} on ${name}`);
  }
  for (const trigger of TRIGGERS) await trx.raw(`drop function if exists ${trigger.fn}()`);
  await trx.raw(`drop table if exists ${JOURNAL_TABLE}`);
}

/** The tables carrying every journal trigger they need (`triggersOn`). */
export async function journaledTables(knex: Querier): Promise<string[]> {
  const result = await knex.raw(
    `select c.relname as name, array_agg(t.tgname::text) as triggers from pg_trigger t join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and t.tgname = any(?)
      group by c.relname
      order by c.relname`,
    [JOURNAL_TRIGGER_NAMES as string[]],
  );
  const journal = (await readJournal(knex)) ?? { ledgerBound: false };
  return (result.rows as Array<{ name: string; triggers: string[] | string }>)
    .filter((row) => {
      const present = typeof row.triggers === 'string' ? arrayItems(row.triggers) : row.triggers;
      return triggersOn(row.name, journal).every((trigger) => present.includes(trigger.name));
    })
    .map((row) => row.name);
}

/** How a database journals its changes; undefined where it has no journal. */
export interface Journal {
  /** The ledger's inserts are read from the ledger by id (migration 0074), not journaled. */
  ledgerBound: boolean;
}

export async function readJournal(knex: Querier): Promise<Journal | undefined> {
  const column = (name: string) =>
    `exists (select 1 from pg_attribute where attrelid = to_regclass('igny8_audit_runs') and attname = '${name}' and not attisdropped)`;
  const result = await knex.raw(
    `select to_regclass(?) is not null and ${column(MARK_COLUMN)} as present, ${column(LEDGER_MARK_COLUMN)} as ledger`,
    [JOURNAL_TABLE],
  );
  const row = result.rows[0] as { present: boolean; ledger: boolean };
  return row.present ? { ledgerBound: row.ledger } : undefined;
}

/** The snapshot the transaction reads: what a recorded run stores as its mark. */
export async function currentMark(trx: Querier): Promise<string> {
  const result = await trx.raw('select pg_current_snapshot()::text as mark');
  return String(result.rows[0].mark);
}

/** What a recorded run keeps: its snapshot, and its ledger bound where the journal reads the ledger by id. */
export interface MarkToRecord {
  snapshot: string;
  ledger: number | null;
}

export interface Mark {
  runId: string;
  startedAt: string;
  mark: string;
  /** The ledger rows above this id were written since; null for a journal that records ledger inserts itself. */
  ledger: number | null;
}

/**
 * The newest recorded run that moved the mark, or undefined when none has. Once the ledger is
 * read by id, only a run that kept a ledger bound counts: the ledger inserts after an older
 * mark were never journaled.
 */
export async function lastMark(knex: Querier, journal: Journal): Promise<Mark | undefined> {
  const ledger = journal.ledgerBound ? LEDGER_MARK_COLUMN : 'null::bigint';
  const result = await knex.raw(
    `select run_id, started_at, ${MARK_COLUMN}::text as mark, ${ledger} as ledger from igny8_audit_runs
      where ${MARK_COLUMN} is not null ${journal.ledgerBound ? `and ${LEDGER_MARK_COLUMN} is not null` : ''}
      order by started_at desc, run_id desc limit 1`,
  );
  const row = result.rows[0] as { run_id: string; started_at: Date | string; mark: string; ledger: string | number | null } | undefined;
  if (!row) return undefined;
  return {
    runId: String(row.run_id),
    startedAt: row.started_at instanceof Date ? row.started_at.toISOString() : String(row.started_at),
    mark: row.mark,
    ledger: row.ledger === null ? null : Number(row.ledger),
  };
}

/**
 * The ledger bound a recorded run keeps: the ledger's highest id, once every transaction that
 * was writing the ledger when it was read has ended. Such a transaction may hold a lower id it
 * has not committed yet; after the wait, every row at or below the bound is in any snapshot
 * taken later, or was rolled back. New writers are not waited for and block nobody: their rows
 * are above the bound. Undefined when one of the writers is still open after `waitMs`.
 */
export async function settleLedger(knex: Knex, waitMs: number): Promise<number | undefined> {
  const bound = Number((await knex.raw(`select coalesce(max(id), 0) as bound from ${LEDGER_TABLE}`)).rows[0].bound);
  // A writer takes its lock on the table before its insert draws an id, and keeps it to its end.
  const writing = `select distinct virtualtransaction from pg_locks
      where locktype = 'relation' and relation = to_regclass(?) and granted and pid is distinct from pg_backend_pid()
        and mode in ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')`;
  let writers = ((await knex.raw(writing, [LEDGER_TABLE])).rows as Array<{ virtualtransaction: string }>).map((row) => row.virtualtransaction);
  const deadline = Date.now() + waitMs;
  while (writers.length > 0) {
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const still = await knex.raw(`select virtualtransaction from (${writing}) w where virtualtransaction = any(?)`, [LEDGER_TABLE, writers]);
    writers = (still.rows as Array<{ virtualtransaction: string }>).map((row) => row.virtualtransaction);
  }
  return bound;
}

/** The accounts changed since `since`, as this transaction sees them; `all` when a shared table changed. */
export async function changedSince(trx: Querier, since: Mark): Promise<{ all: boolean; accountIds: number[] }> {
  // The ledger's rows above the bound, by its primary key: the ledger inserts since.
  const ledger = since.ledger === null ? '' : `union all select account_id from ${LEDGER_TABLE} where id > ?`;
  const result = await trx.raw(
    `select bool_or(account_id is null) as all, coalesce(array_agg(distinct account_id) filter (where account_id is not null), '{}') as ids
       from (select account_id from ${JOURNAL_TABLE}
              where xid >= pg_snapshot_xmin(?::pg_snapshot) and not pg_visible_in_snapshot(xid, ?::pg_snapshot)
             ${ledger}) changed`,
    since.ledger === null ? [since.mark, since.mark] : [since.mark, since.mark, since.ledger],
  );
  const row = result.rows[0] as { all: boolean | null; ids: Array<string | number> | string };
  const ids = (typeof row.ids === 'string' ? arrayItems(row.ids) : row.ids).map(Number);
  return { all: row.all === true, accountIds: ids.sort((a, b) => a - b) };
}

/** The items of an array of plain words or numbers as PostgreSQL prints it (`{a,b}`): knex-pglite returns some arrays as text. */
function arrayItems(text: string): string[] {
  const inner = text.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',');
}

/**
 * Journal rows every transaction of `mark` already saw can never be "changed since" again. A
 * role without DELETE on the journal (a read-only audit role granted only what --record needs)
 * leaves them: the mark still moves, and a role that may prunes them later.
 */
export async function pruneJournal(trx: Querier, mark: string): Promise<number> {
  const allowed = await trx.raw(`select has_table_privilege(?, 'DELETE') as ok`, [JOURNAL_TABLE]);
  if (!allowed.rows[0].ok) return 0;
  const result = await trx.raw(
    `with gone as (delete from ${JOURNAL_TABLE} where xid < pg_snapshot_xmin(?::pg_snapshot) returning 1) select count(*)::int as n from gone`,
    [mark],
  );
  return Number(result.rows[0].n);
}
