// The repair contract. A repair fixes exactly the rows its check finds: it names them by
// key (the id of a row in its driving table), so the plan a person reads and the rows the
// apply step locks are the same set, and any difference between them is a refusal.
import type { Knex } from 'knex';
import type { Sample } from '../checks/types.js';
import type { DatabaseKind } from '../db/connect.js';
import type { SchemaInfo } from '../schema/inspect.js';

export type RepairKey = number | string;

export interface RepairOptions {
  /** `--account SLUG`, resolved to the account's id once per run. */
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
  schema: SchemaInfo;
  options: RepairOptions;
  /** The run id shared by every row this `repair` invocation logs. */
  runId: string;
  checkId: string;
  /** How many example rows a plan shows. */
  sample: number;
}

/** Rows the check finds that this repair leaves alone, and why (a person or a flag decides). */
export interface LeftOver {
  count: number;
  reason: string;
}

/** Rows written, per table, by one apply step. */
export type TableCounts = Record<string, number>;

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

export interface Repair {
  checkId: string;
  /** What the repair needs beyond the database; checked before a run writes anything. */
  requirements?(options: RepairOptions): Requirement[];
  /** One line: what the repair does to each target. */
  action: string;
  /** The table whose ids are this repair's keys; its rows are locked FOR UPDATE before apply. */
  table(schema: SchemaInfo): string;
  /** Why the repair has nothing to do on this shape; undefined when it applies. */
  notApplicable?(schema: SchemaInfo): string | undefined;
  /** The keys of every row the repair would change now; restricted to `within` when given. */
  targets(ctx: RepairContext, within?: RepairKey[]): Promise<RepairKey[]>;
  /** Readable example rows for the plan (secrets masked). */
  examples(ctx: RepairContext, keys: RepairKey[]): Promise<Sample[]>;
  /** Rows the check finds that this repair cannot fix with the options given. */
  leftOver?(ctx: RepairContext): Promise<LeftOver | undefined>;
  /** Locks the target rows; default: `select … for update` on `table()` by id. */
  lock?(ctx: RepairContext, keys: RepairKey[]): Promise<void>;
  /** Changes the rows named by `keys`, logging each one; returns rows written per table. */
  apply(ctx: RepairContext, keys: RepairKey[]): Promise<TableCounts>;
  /** Keys per transaction; 0 = all in one (small reference-data repairs). */
  batchSize?: number;
}

export interface RepairPlan {
  checkId: string;
  action: string;
  /** Sorted keys of the rows the repair would change. */
  keys: RepairKey[];
  examples: Sample[];
  leftOver?: LeftOver;
  notApplicable?: string;
}

export interface RepairOutcome {
  checkId: string;
  /** Targets repaired (keys of the driving table). */
  repaired: number;
  /** Rows written per table (each one logged). */
  written: TableCounts;
  batches: number;
  leftOver?: LeftOver;
  notApplicable?: string;
  durationMs: number;
}
