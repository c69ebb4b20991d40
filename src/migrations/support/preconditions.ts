// A migration that adds a constraint first counts the rows that would violate it and refuses,
// naming the count, the audit check that finds those rows and the command that repairs them.
// Where a rule defines those rows, the gate counts with the rule's own finding SQL: the audit,
// the repair and the gate cannot disagree about what a violation is.
import type { Knex } from 'knex';
import { DomainRefusal } from '../../errors.js';
import { readShape } from '../../rules/shape.js';
import type { Rule } from '../../rules/types.js';

export interface Precondition {
  /** What the migration is about to guarantee, e.g. "sites.industry_id not null". */
  guarantee: string;
  /** A query returning one row with a numeric `count` column. */
  countSql: string;
  bindings?: readonly Knex.RawBinding[];
  /** The violating rows, in words: "sites without an industry". */
  what: string;
  /** The same for a count of one: "site without an industry". */
  one: string;
  /** The id of SPEC.md's check that finds these rows; absent when no check covers them. */
  checkId?: string;
  /** Arguments the repair needs besides the check id, e.g. "[--default-industry SLUG]". */
  repairArgs?: string;
  /** What the repair does, in one line, when it is not obvious. */
  repairHint?: string;
  /** True when the check has no repair: a person decides. */
  noRepair?: boolean;
  /** For violations no check covers: what a person should do. */
  resolve?: string;
  /** Extra lines (e.g. a breakdown by kind). */
  details?: string[];
}

export async function countRows(
  trx: Knex.Transaction,
  sql: string,
  bindings: readonly Knex.RawBinding[] = [],
): Promise<number> {
  const result = await trx.raw(sql, [...bindings]);
  return Number(result.rows[0]?.count ?? 0);
}

/** The lines that tell a person how to unblock the migration. */
export function remedyLines(p: Precondition): string[] {
  if (p.checkId && !p.noRepair) {
    const command = `igny8 repair ${p.checkId}${p.repairArgs ? ` ${p.repairArgs}` : ''}`;
    return [
      `repair: \`${command}\` shows the plan; add --yes to apply it, then run \`igny8 migrate\` again`,
      ...(p.repairHint ? [p.repairHint] : []),
    ];
  }
  if (p.checkId) {
    return [
      `no automatic repair: a person must resolve them; list them with \`igny8 audit --check ${p.checkId}\``,
      ...(p.resolve ? [p.resolve] : []),
      'then run `igny8 migrate` again',
    ];
  }
  return [...(p.resolve ? [p.resolve] : []), 'then run `igny8 migrate` again'];
}

/** Throws DomainRefusal (exit 3) when any row violates what the migration is about to add. */
export async function requireNoViolations(trx: Knex.Transaction, p: Precondition): Promise<void> {
  const count = await countRows(trx, p.countSql, p.bindings);
  if (count === 0) return;
  const check = p.checkId ? ` (check ${p.checkId})` : '';
  const repair = p.checkId && !p.noRepair ? `; repair: igny8 repair ${p.checkId}${p.repairArgs ? ` ${p.repairArgs}` : ''}` : '';
  throw new DomainRefusal(`migration blocked: ${count} ${count === 1 ? p.one : p.what}${check}; ${p.guarantee} cannot be added${repair}`, {
    code: 'migration-blocked',
    details: [...(p.details ?? []), ...remedyLines(p), 'nothing was changed by this migration'],
  });
}

export interface RuleGate {
  /** What the migration is about to guarantee, e.g. "sites.industry_id not null". */
  guarantee: string;
  /** Of the rule's findings, only those matching this predicate on `f` block the migration. */
  only?: string;
  /** The blocking rows in words, when they are a part of what the rule finds. */
  what?: string;
  one?: string;
  repairArgs?: string;
  repairHint?: string;
  resolve?: string;
  details?: string[];
}

/** Refuses (exit 3) while the rule finds rows that violate what the migration is about to add. */
export async function requireRuleClean(trx: Knex.Transaction, rule: Rule, gate: RuleGate): Promise<void> {
  const count = await countRuleFindings(trx, rule, gate.only);
  if (count === 0) return;
  await requireNoViolations(trx, {
    guarantee: gate.guarantee,
    countSql: 'select ?::int as count',
    bindings: [count],
    what: gate.what ?? rule.title,
    one: gate.one ?? gate.what ?? rule.title,
    checkId: rule.id,
    repairArgs: gate.repairArgs,
    repairHint: gate.repairHint,
    noRepair: rule.repair === undefined,
    resolve: gate.resolve,
    details: gate.details,
  });
}

/** How many rows the rule finds (those matching `only`, a predicate on `f`, when given); 0 where it does not run. */
export async function countRuleFindings(trx: Knex.Transaction, rule: Rule, only?: string): Promise<number> {
  const shape = await readShape(trx);
  if (rule.verdict(shape)) return 0;
  const query = rule.findings(shape);
  return countRows(trx, `select count(*) as count from (${query.sql}) f${only ? ` where ${only}` : ''}`, [...(query.bindings ?? [])]);
}
