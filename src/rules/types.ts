// A rule of the domain, written once. Its module holds everything igny8 does about it: the
// one SQL that finds its rows, and (when it has one) the repair that acts on exactly those
// rows. The audit counts and samples with that SQL, the repair takes its targets from it, a
// migration gate counts with it, and domain code that must never produce the defect uses the
// predicates the module exports.
import type { Knex } from 'knex';
import type { DatabaseKind } from '../db/connect.js';
import type { SchemaInfo } from '../schema/inspect.js';
import type { SchemaConstraints } from './constraints.js';

export type Severity = 'error' | 'warning';

/** What a rule is judged against: the shape of the database, what its schema guarantees, the scope. */
export interface Shape {
  schema: SchemaInfo;
  constraints: SchemaConstraints;
  /** `--account SLUG`, resolved to the account's id: only that account's rows. */
  accountId?: number;
  /** `audit --incremental`: only these accounts' rows (those changed since the last recorded run). */
  accountIds?: readonly number[];
  /** The credential key, when one is given: rules that judge encrypted values need it. */
  credentialKey?: Buffer;
  /**
   * The ledger lies on disk in account order (its statistics say so): a walk through the
   * account index then reads it sequentially. Unknown or false for a live, append-only ledger.
   */
  ledgerInAccountOrder?: boolean;
  /**
   * A valid btree index on the ledger leads with (account, id) and carries every column of
   * LEDGER_WALK_COLUMNS (migration 0073): a walk that reads only those columns gets the rows in
   * account order from the index alone, whatever order the heap is in.
   */
  ledgerWalkIndex?: boolean;
  /**
   * The columns (`table.column`) whose order the table's heap follows, from the same
   * statistics: a database seeded or restored table by table, not one written over time.
   */
  heapFollows?: readonly string[];
  /**
   * Every ledger id and every account id is below 2^31, so an id and a 32-bit value (or an
   * account and a ledger id) fit together in one bigint: ./ledger.ts then aggregates and sorts
   * one bigint per row instead of an array or two keys.
   */
  ledgerIdsPack?: boolean;
  /** The ledger's rows as its statistics estimate them (pg_class.reltuples); unknown before its first ANALYZE. */
  ledgerRows?: number;
}

/** Why a rule does not run on this database: its schema guarantees it, or the rule does not apply. */
export type Verdict = { kind: 'enforced'; by: string } | { kind: 'not-applicable'; reason: string };

/**
 * The SQL that finds a rule's rows, one row per finding, with these columns:
 *   key     text: stable across runs; suppressions and samples name it ("site:42")
 *   target  the id of the row its repair changes (rules with a repair; otherwise null)
 *   account text: the account's slug, or null
 *   sort    an orderable value: samples come in this order
 *   then readable fields for samples; a column whose name starts with `_` is for the repair
 *   only and never shown.
 */
export interface FindingSql {
  sql: string;
  bindings?: ReadonlyArray<Knex.RawBinding>;
  /**
   * Planner settings for this one statement, restored after it: for the few queries where the
   * planner's estimate is known to be wrong at scale (the rule that sets one says why).
   */
  settings?: Readonly<Record<string, string>>;
}

/** The id of a repair target: a row id, or a tagged key where a repair spans two tables. */
export type TargetKey = number | string;

/**
 * What a rule's findings depend on, which decides how `audit --incremental` runs it:
 *   account   each finding belongs to one account and depends only on that account's rows
 *             (and on shared tables, whose changes the journal reports as "every account"):
 *             run for the changed accounts only, through the account scope (./sql.ts)
 *   database  findings span accounts, or depend on time or on something outside the tenant
 *             rows (the catalog, a key given): always run in full
 * A rule that declares nothing runs in full: slower, never wrong.
 */
export type RuleScope = 'account' | 'database';

export interface Rule {
  /** Stable id: what a check is called in reports, suppressions, `repair ID` and gates. */
  id: string;
  /** How the rule narrows to changed accounts (absent: 'database', run in full). */
  scope?: RuleScope;
  /**
   * Run over every account, the rule reads every ledger row in account order: on a large ledger
   * in arrival order it wants the walk index (ledger.ts, ledgerWalkAdvice).
   */
  walksLedger?: boolean;
  severity: Severity;
  /** One line: what the rule finds. */
  title: string;
  /** One line: how to fix what it finds (the repair command, or who decides). */
  remedy: string;
  /** Undefined when the rule runs on this shape; otherwise why it does not. */
  verdict(shape: Shape): Verdict | undefined;
  /**
   * The finding rows. `within` restricts them to these targets (a repair batch); the rule
   * applies it where its SQL can use an index.
   */
  findings(shape: Shape, within?: readonly TargetKey[]): FindingSql;
  /**
   * Findings SQL cannot make (a value that does not decrypt), from a bounded sample of rows
   * judged in Node; they are counted and shown with the SQL's.
   */
  spotCheck?(knex: Knex.Transaction, shape: Shape): Promise<Array<{ key: string; account?: string | null } & Record<string, unknown>>>;
  repair?: RuleRepair;
}

/** Options a repair run is given: the scope and what a person decided (`--default-industry`). */
export interface RepairOptions {
  accountId?: number;
  /** `--default-industry SLUG`: the only way a site gets an industry its sectors do not imply. */
  defaultIndustry?: string;
  /** Where the embedded database lives (the encryption key file) and the environment. */
  kind: DatabaseKind;
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
}

export interface RepairContext {
  trx: Knex.Transaction;
  shape: Shape;
  options: RepairOptions;
  /** The run id shared by every row this `repair` invocation logs. */
  runId: string;
  checkId: string;
}

/** Something a repair needs from outside the database to fix its rows (a key, a flag). */
export interface Requirement {
  /** What to set: `IGNY8_SECRET_KEY`, `--default-industry SLUG`. */
  what: string;
  met: boolean;
  /** Why it is needed, in a few words. */
  why: string;
  /** Without it the repair still runs and leaves some rows for a person (no refusal). */
  optional?: boolean;
}

/** Of the finding rows, the ones a repair fixes with the options given, as a predicate on `f`. */
export interface Fixable {
  /** A SQL predicate over the finding row `f` (its columns, `_` ones included). */
  where: string;
  bindings?: ReadonlyArray<Knex.RawBinding>;
  /** Why the rows it leaves are left (a person or a flag decides). */
  leftOver: string;
}

/** Rows written, per table, by one apply step. */
export type TableCounts = Record<string, number>;

export interface RuleRepair {
  /** One line: what the repair does to each target. */
  action: string;
  /** The table whose ids are the targets; its rows are locked FOR UPDATE before apply. */
  table(schema: SchemaInfo): string;
  /** The finding rows this repair fixes with these options; absent: all of them. */
  fixable?(options: RepairOptions): Fixable | undefined;
  /** The change a finding row will get, in words, for the plan (from the row's columns). */
  change(row: Readonly<Record<string, unknown>>, options: RepairOptions): string;
  /** What the repair needs beyond the database; checked before a run writes anything. */
  requirements?(options: RepairOptions): Requirement[];
  /** Refuses, before a run writes anything, what would make the repair fail half-way (a key that is not the database's). */
  preflight?(knex: Knex, options: RepairOptions): Promise<void>;
  /** Locks the target rows; default: `select … for update` on `table()` by id. */
  lock?(ctx: RepairContext, keys: readonly TargetKey[]): Promise<void>;
  /** Changes the rows named by `keys` (all of them findings now), logging each; rows written per table. */
  apply(ctx: RepairContext, keys: readonly TargetKey[]): Promise<TableCounts>;
  /** Keys per transaction; 0 = all in one (small reference-data repairs). */
  batchSize?: number;
  /**
   * Why the repair's runs cannot be undone, when it writes secrets (credentials, password
   * hashes): the log keeps no secret, so `repair undo` has nothing to put back and refuses.
   */
  writesSecrets?: string;
}
