// Checks are data: a check finds rows with one set-based query and returns a count and a
// few samples; the audit command decides the exit code, a renderer decides the look, and a
// repair (when one exists) fixes exactly the rows the check finds.
import type { Knex } from 'knex';
import type { SchemaInfo } from '../schema/inspect.js';
import type { SchemaConstraints } from './constraints.js';

export type Severity = 'error' | 'warning';

export interface CheckScope {
  /** Limit to one account (`--account SLUG`); its id, resolved once before checks run. */
  accountId?: number;
}

export interface CheckContext {
  knex: Knex | Knex.Transaction;
  /** Which shape the database is in (legacy, target, or between). */
  schema: SchemaInfo;
  /** Constraints and indexes that exist (and are valid): what the schema guarantees. */
  constraints: SchemaConstraints;
  scope: CheckScope;
  /** How many example rows to return (`--sample N`). */
  sample: number;
  /** Sample keys silenced by a suppression: counted apart, in SQL, never sampled. */
  suppressedKeys: readonly string[];
}

/** One example row: a stable key (suppressions name it), the account, and readable fields. */
export interface Sample {
  key: string;
  account?: string | null;
  [field: string]: unknown;
}

export type CheckOutcome =
  /** `count` excludes suppressed rows; `suppressed` is how many rows suppressions silenced. */
  | { kind: 'ran'; count: number; samples: Sample[]; suppressed?: number }
  /** The schema now guarantees what the check looks for: nothing to run. */
  | { kind: 'enforced'; by: string }
  /** The check does not apply to this shape (a table it reads does not exist). */
  | { kind: 'not-applicable'; reason: string };

export interface Check {
  id: string;
  severity: Severity;
  title: string;
  /** One line: how to fix what the check finds (the repair command, or who decides). */
  remedy: string;
  /** True when `igny8 repair <id>` exists. */
  repairable: boolean;
  run(ctx: CheckContext): Promise<CheckOutcome>;
}
