// Plans and applies repairs. A repair acts on exactly the rows its rule finds: the plan's
// targets, examples and left-over rows all come from the rule's one finding SQL. Applying a
// plan re-counts those targets first (nothing is written if they differ), then walks them in
// bounded batches, one transaction each: lock the batch's rows, find them again under the
// lock, refuse if they changed, write and log, commit.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { withMigrationLock } from '../db/lock.js';
import { withTransaction } from '../db/transaction.js';
import { classifyError, DomainRefusal, type Igny8Error, ValidationError } from '../errors.js';
import { asSample, countLeftOver, findingRows, findingTargets, sortKeys, type Sample } from '../rules/finding.js';
import { findRule, repairableRules } from '../rules/registry.js';
import { readShape } from '../rules/shape.js';
import type {
  RepairContext,
  RepairOptions,
  Requirement,
  Rule,
  RuleRepair,
  Shape,
  TableCounts,
  TargetKey,
} from '../rules/types.js';
import { inspectSchema } from '../schema/inspect.js';
import { currentOperator, type Operator } from '../operator.js';
import { repairLogExists, REPAIR_LOG_TABLE } from './log.js';
import { recordRunEnd, recordRunStart } from './runs.js';

export const DEFAULT_BATCH_SIZE = 10_000;
/** A repair never waits long behind another session's row lock; it fails and can be rerun. */
const LOCK_TIMEOUT = '10s';

/** Rows the rule finds that the repair leaves alone, and why (a person or a flag decides). */
export interface LeftOver {
  count: number;
  reason: string;
}

export interface RepairPlan {
  checkId: string;
  action: string;
  /** Sorted targets of the rows the repair would change. */
  keys: TargetKey[];
  /** Finding rows of the first targets, each with the change it will get. */
  examples: Sample[];
  leftOver?: LeftOver;
  notApplicable?: string;
}

export interface RepairOutcome {
  checkId: string;
  /** Targets repaired. */
  repaired: number;
  /** Rows written per table (each one logged). */
  written: TableCounts;
  batches: number;
  leftOver?: LeftOver;
  notApplicable?: string;
  durationMs: number;
}

export interface ProgressEvent {
  checkId: string;
  batch: number;
  batches: number;
  done: number;
  total: number;
}

/** Called between a batch's writes and its commit (a test's seam to interrupt a repair there). */
export type BatchHook = (checkId: string, batch: number) => Promise<void>;

export interface RunOptions extends RepairOptions {
  /** Example rows per plan. */
  sample?: number;
  /** Shared by every logged row of one `repair` invocation; generated when absent. */
  runId?: string;
  /** Overrides each repair's batch size (tests use small batches). */
  batchSize?: number;
  onProgress?(event: ProgressEvent): void;
  /** Called once when another igny8 process holds the lock a repair (or migration) takes. */
  onWait?(): void;
  /** Called when a repair starts applying (after its plan). */
  onStart?(plan: RepairPlan): void;
  /** Runs after each batch's writes, before its commit, inside its transaction. */
  beforeCommit?: BatchHook;
  /** Who runs it and why, recorded with the run; default: the current OS user, no reason. */
  operator?: Operator;
}

function repairOf(rule: Rule): RuleRepair {
  if (!rule.repair) throw new ValidationError('ID', `${rule.id} has no repair`);
  return rule.repair;
}

function difference(planned: readonly TargetKey[], now: readonly TargetKey[]): { added: TargetKey[]; gone: TargetKey[] } {
  const before = new Set(planned.map(String));
  const after = new Set(now.map(String));
  return {
    added: now.filter((key) => !before.has(String(key))),
    gone: planned.filter((key) => !after.has(String(key))),
  };
}

function refuseIfChanged(checkId: string, planned: readonly TargetKey[], now: readonly TargetKey[], where: string): void {
  const { added, gone } = difference(planned, now);
  if (added.length === 0 && gone.length === 0) return;
  const list = (keys: TargetKey[]) => keys.slice(0, 10).join(', ') + (keys.length > 10 ? ', …' : '');
  throw new DomainRefusal(
    `${checkId}: the rows to repair changed since they were counted (planned ${planned.length}, now ${now.length}); ${where}`,
    {
      code: 'repair-rows-changed',
      details: [
        ...(added.length > 0 ? [`new: ${list(added)}`] : []),
        ...(gone.length > 0 ? [`gone or already fixed: ${list(gone)}`] : []),
        `run \`igny8 repair ${checkId}\` again to see the current plan`,
      ],
    },
  );
}

async function lockById(ctx: RepairContext, table: string, keys: readonly TargetKey[]): Promise<void> {
  await ctx.trx.raw(`select id from ${table} where id = any(?::bigint[]) order by id for update`, [
    keys.map(Number),
  ] as unknown as Knex.RawBinding[]);
}

/** The targets a repair fixes now (within `keys` when given): the rule's findings, as the options allow. */
export async function repairTargets(
  knex: Knex | Knex.Transaction,
  rule: Rule,
  shape: Shape,
  options: RepairOptions,
  within?: readonly TargetKey[],
): Promise<TargetKey[]> {
  if (rule.verdict(shape)) return [];
  return findingTargets(knex, rule.findings(shape, within), repairOf(rule).fixable?.(options));
}

/** What `repair` would change for one rule, computed in a transaction that writes nothing. */
export async function planRepair(knex: Knex, rule: Rule, options: RunOptions): Promise<RepairPlan> {
  const repair = repairOf(rule);
  return knex.transaction(async (trx) => {
    const shape = await readShape(trx, options.accountId);
    const base = { checkId: rule.id, action: repair.action, keys: [] as TargetKey[], examples: [] as Sample[] };
    const verdict = rule.verdict(shape);
    if (verdict) return { ...base, notApplicable: verdict.kind === 'enforced' ? `enforced by ${verdict.by}` : verdict.reason };
    const fixable = repair.fixable?.(options);
    const keys = await findingTargets(trx, rule.findings(shape), fixable);
    const sample = Math.max(0, options.sample ?? 5);
    const examples =
      keys.length > 0 && sample > 0
        ? (await findingRows(trx, rule.findings(shape, keys.slice(0, sample)), sample)).map((row) => ({
            ...asSample(row),
            change: repair.change(row, options),
          }))
        : [];
    const left = fixable ? await countLeftOver(trx, rule.findings(shape), fixable) : 0;
    return { ...base, keys, examples, ...(left > 0 ? { leftOver: { count: left, reason: fixable!.leftOver } } : {}) };
  });
}

/** Applies a plan made in this run: refuses, writing nothing, if its rows changed since. */
export async function applyRepair(knex: Knex, plan: RepairPlan, options: RunOptions, runId: string): Promise<RepairOutcome> {
  const started = performance.now();
  const rule = findRule(plan.checkId);
  if (!rule?.repair) throw new ValidationError('ID', `no repair for ${plan.checkId}`);
  const repair = rule.repair;
  const outcome: RepairOutcome = {
    checkId: plan.checkId,
    repaired: 0,
    written: {},
    batches: 0,
    ...(plan.leftOver ? { leftOver: plan.leftOver } : {}),
    ...(plan.notApplicable ? { notApplicable: plan.notApplicable } : {}),
    durationMs: 0,
  };
  if (plan.notApplicable || plan.keys.length === 0) return { ...outcome, durationMs: elapsed(started) };

  // The whole set first, so a plan gone stale is refused before any batch is written.
  await knex.transaction(async (trx) => {
    const now = await repairTargets(trx, rule, await readShape(trx, options.accountId), options);
    refuseIfChanged(plan.checkId, plan.keys, now, 'nothing was written');
  });

  const size = options.batchSize ?? repair.batchSize ?? DEFAULT_BATCH_SIZE;
  const batches: TargetKey[][] = [];
  if (size <= 0) batches.push(plan.keys);
  else for (let at = 0; at < plan.keys.length; at += size) batches.push(plan.keys.slice(at, at + size));

  for (const [index, batch] of batches.entries()) {
    const written = await withTransaction(knex, async (trx) => {
      await trx.raw(`select set_config('lock_timeout', ?, true)`, [LOCK_TIMEOUT]);
      const shape = await readShape(trx, options.accountId);
      const ctx: RepairContext = { trx, shape, options, runId, checkId: plan.checkId };
      await (repair.lock ? repair.lock(ctx, batch) : lockById(ctx, repair.table(shape.schema), batch));
      const now = await repairTargets(trx, rule, shape, options, batch);
      refuseIfChanged(
        plan.checkId,
        batch,
        now,
        index === 0
          ? 'nothing was written'
          : `batches 1-${index} of ${batches.length} were applied (run ${runId}); this batch and the rest were not`,
      );
      const counts = await repair.apply(ctx, batch);
      await options.beforeCommit?.(plan.checkId, index + 1);
      return counts;
    });
    addCounts(outcome.written, written);
    outcome.repaired += batch.length;
    outcome.batches += 1;
    options.onProgress?.({
      checkId: plan.checkId,
      batch: index + 1,
      batches: batches.length,
      done: outcome.repaired,
      total: plan.keys.length,
    });
  }
  return { ...outcome, durationMs: elapsed(started) };
}

function addCounts(into: TableCounts, from: TableCounts): void {
  for (const [table, count] of Object.entries(from)) into[table] = (into[table] ?? 0) + count;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

export interface RepairRunItem {
  plan: RepairPlan;
  outcome?: RepairOutcome;
  /** What `--yes` needs for this plan's rows (shown in the plan; an unmet one refuses --yes). */
  requirements: Requirement[];
}

export interface RepairRunReport {
  runId: string;
  applied: boolean;
  items: RepairRunItem[];
  /** False when the repair log does not exist yet: `--yes` would be refused. */
  logReady: boolean;
  /** The repair that failed or refused; the ones after it did not run. */
  failed?: { checkId: string; error: Igny8Error };
  notRun: string[];
}

/**
 * Plans (and with `apply`, applies) the repairs of `checkIds` in dependency order. Applied,
 * each repair is planned right before it runs, so it sees what the earlier ones changed.
 */
export async function runRepairs(
  db: Database,
  checkIds: readonly string[],
  options: RunOptions & { apply: boolean },
): Promise<RepairRunReport> {
  const runId = options.runId ?? randomUUID();
  const logReady = await repairLogExists(db.knex);
  if (options.apply && !logReady) {
    throw new DomainRefusal(
      `the repair log (${REPAIR_LOG_TABLE}) does not exist: run \`igny8 migrate\` first; it adds the repair log and stops before the first migration that needs repairs`,
      { code: 'repair-log-missing' },
    );
  }
  if (!options.apply) return { ...(await repairAll(db, checkIds, options, runId)), logReady };
  await refuseUnmetRequirements(db, checkIds, options);
  // Under the migration lock: the schema cannot change under a repair, and two repairs (or a
  // repair and a migration) take turns instead of interleaving their batches.
  return withMigrationLock(
    db,
    async () => {
      await recordRunStart(db.knex, { runId, kind: 'repair', checkIds, operator: options.operator ?? currentOperator() });
      const report = await repairAll(db, checkIds, options, runId);
      await recordRunEnd(db.knex, runId);
      return report;
    },
    options.onWait,
  );
}

/** The requirements of a plan with rows to change; none when it has nothing to do. */
function requirementsOf(rule: Rule, plan: RepairPlan, options: RepairOptions): Requirement[] {
  if (plan.notApplicable || (plan.keys.length === 0 && !plan.leftOver)) return [];
  return rule.repair?.requirements?.(options) ?? [];
}

/**
 * Before the first write of `--yes`: a repair that would need something missing (the secret
 * key) refuses the whole run, instead of stopping half-way after the repairs before it.
 */
async function refuseUnmetRequirements(db: Database, checkIds: readonly string[], options: RunOptions): Promise<void> {
  const unmet: string[] = [];
  for (const rule of repairableRules().filter((candidate) => checkIds.includes(candidate.id))) {
    await rule.repair?.preflight?.(db.knex, options);
    const missing = (rule.repair?.requirements?.(options) ?? []).filter((need) => !need.met && !need.optional);
    if (missing.length === 0) continue;
    const plan = await planRepair(db.knex, rule, { ...options, sample: 0 });
    for (const need of requirementsOf(rule, plan, options).filter((req) => !req.met && !req.optional)) {
      unmet.push(`${rule.id} (${plan.keys.length} rows): ${need.what}, ${need.why}`);
    }
  }
  if (unmet.length === 0) return;
  throw new DomainRefusal('repair --yes needs what is not given; nothing was written', {
    code: 'repair-requirement-missing',
    details: unmet,
  });
}

async function repairAll(
  db: Database,
  checkIds: readonly string[],
  options: RunOptions & { apply: boolean },
  runId: string,
): Promise<RepairRunReport> {
  const wanted = new Set(checkIds);
  const report: RepairRunReport = { runId, applied: options.apply, logReady: true, items: [], notRun: [] };
  const rules = repairableRules().filter((candidate) => wanted.has(candidate.id));
  for (const [index, rule] of rules.entries()) {
    try {
      const plan = await planRepair(db.knex, rule, options);
      const requirements = requirementsOf(rule, plan, options);
      if (!options.apply) {
        report.items.push({ plan, requirements });
        continue;
      }
      options.onStart?.(plan);
      const outcome = await applyRepair(db.knex, plan, options, runId);
      report.items.push({ plan, outcome, requirements });
    } catch (error) {
      // What ran before stays applied (each repair is its own transaction); say what did not.
      report.failed = { checkId: rule.id, error: classifyError(error) };
      report.notRun = rules.slice(index + 1).map((rest) => rest.id);
      break;
    }
  }
  return report;
}

/** `--account SLUG` → the account's id; `--default-industry SLUG` checked to exist and be active. */
export async function resolveScope(
  knex: Knex,
  input: { account?: string; defaultIndustry?: string },
): Promise<{ accountId?: number; defaultIndustry?: string }> {
  const schema = await inspectSchema(knex);
  const resolved: { accountId?: number; defaultIndustry?: string } = {};
  if (input.account !== undefined) {
    const [row] = (await knex(schema.accountsTable).where({ slug: input.account }).select('id')) as Array<{ id: number }>;
    if (!row) throw new ValidationError('--account', `no account with the slug "${input.account}"`);
    resolved.accountId = Number(row.id);
  }
  if (input.defaultIndustry !== undefined) {
    const [row] = (await knex('igny8_industries').where({ slug: input.defaultIndustry }).select('is_active')) as Array<{
      is_active: boolean;
    }>;
    if (!row) {
      throw new ValidationError('--default-industry', `no industry "${input.defaultIndustry}"`, {
        details: ['`igny8 catalog show` lists the industries'],
      });
    }
    if (!row.is_active) throw new ValidationError('--default-industry', `industry "${input.defaultIndustry}" is not active`);
    resolved.defaultIndustry = input.defaultIndustry;
  }
  return resolved;
}
