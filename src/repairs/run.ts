// Plans and applies repairs. A plan names the rows a repair would change; applying it
// re-counts those rows first (nothing is written if they differ), then walks them in
// bounded batches, one transaction each: lock the batch's rows, recompute its targets
// under the lock, refuse if they changed, write and log, commit.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { withMigrationLock } from '../db/migrator.js';
import { withTransaction } from '../db/transaction.js';
import { classifyError, DomainRefusal, type Igny8Error, ValidationError } from '../errors.js';
import { inspectSchema, type SchemaInfo } from '../schema/inspect.js';
import { repairLogExists, REPAIR_LOG_TABLE } from './log.js';
import { findRepair, orderedRepairs } from './registry.js';
import type {
  Repair,
  RepairContext,
  RepairKey,
  RepairOptions,
  RepairOutcome,
  RepairPlan,
  Requirement,
  TableCounts,
} from './types.js';

export const DEFAULT_BATCH_SIZE = 10_000;
/** A repair never waits long behind another session's row lock; it fails and can be rerun. */
const LOCK_TIMEOUT = '10s';

export interface ProgressEvent {
  checkId: string;
  batch: number;
  batches: number;
  done: number;
  total: number;
}

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
  /**
   * Test-only: after writing batch number `pauseAfterBatch` (1-based), before its commit, wait
   * `pauseSeconds` (default 60) so a test can kill the process with that transaction open.
   * `onPause` is told which batch is waiting.
   */
  pauseAfterBatch?: number;
  pauseSeconds?: number;
  onPause?(checkId: string, batch: number): void;
}

function context(trx: Knex.Transaction, schema: SchemaInfo, repair: Repair, options: RunOptions, runId: string): RepairContext {
  return { trx, schema, options, runId, checkId: repair.checkId, sample: options.sample ?? 5 };
}

function sortKeys(keys: RepairKey[]): RepairKey[] {
  return [...new Set(keys)].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
  );
}

function difference(planned: RepairKey[], now: RepairKey[]): { added: RepairKey[]; gone: RepairKey[] } {
  const before = new Set(planned.map(String));
  const after = new Set(now.map(String));
  return {
    added: now.filter((key) => !before.has(String(key))),
    gone: planned.filter((key) => !after.has(String(key))),
  };
}

function refuseIfChanged(checkId: string, planned: RepairKey[], now: RepairKey[], where: string): void {
  const { added, gone } = difference(planned, now);
  if (added.length === 0 && gone.length === 0) return;
  const list = (keys: RepairKey[]) => keys.slice(0, 10).join(', ') + (keys.length > 10 ? ', …' : '');
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

async function lockById(ctx: RepairContext, table: string, keys: RepairKey[]): Promise<void> {
  await ctx.trx.raw(`select id from ${table} where id = any(?::bigint[]) order by id for update`, [keys] as Knex.RawBinding[]);
}

/** What `repair` would change for one check, computed in a transaction that writes nothing. */
export async function planRepair(knex: Knex, repair: Repair, options: RunOptions, runId = 'plan'): Promise<RepairPlan> {
  return knex.transaction(async (trx) => {
    const schema = await inspectSchema(trx);
    const base = { checkId: repair.checkId, action: repair.action, keys: [] as RepairKey[], examples: [] };
    const notApplicable = repair.notApplicable?.(schema);
    if (notApplicable) return { ...base, notApplicable };
    const ctx = context(trx, schema, repair, options, runId);
    const keys = sortKeys(await repair.targets(ctx));
    const examples = keys.length > 0 ? await repair.examples(ctx, keys.slice(0, ctx.sample)) : [];
    const leftOver = await repair.leftOver?.(ctx);
    return { ...base, keys, examples, ...(leftOver && leftOver.count > 0 ? { leftOver } : {}) };
  });
}

function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** Applies a plan made in this run: refuses, writing nothing, if its rows changed since. */
export async function applyRepair(knex: Knex, plan: RepairPlan, options: RunOptions, runId: string): Promise<RepairOutcome> {
  const started = performance.now();
  const repair = findRepair(plan.checkId);
  if (!repair) throw new ValidationError('ID', `no repair for ${plan.checkId}`);
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
    const schema = await inspectSchema(trx);
    const now = sortKeys(await repair.targets(context(trx, schema, repair, options, runId)));
    refuseIfChanged(plan.checkId, plan.keys, now, 'nothing was written');
  });

  const size = options.batchSize ?? repair.batchSize ?? DEFAULT_BATCH_SIZE;
  const batches: RepairKey[][] = [];
  if (size <= 0) batches.push(plan.keys);
  else for (let at = 0; at < plan.keys.length; at += size) batches.push(plan.keys.slice(at, at + size));

  for (const [index, batch] of batches.entries()) {
    const written = await withTransaction(knex, async (trx) => {
      await trx.raw(`select set_config('lock_timeout', ?, true)`, [LOCK_TIMEOUT]);
      const schema = await inspectSchema(trx);
      const ctx = context(trx, schema, repair, options, runId);
      await (repair.lock ? repair.lock(ctx, batch) : lockById(ctx, repair.table(schema), batch));
      const now = sortKeys(await repair.targets(ctx, batch));
      refuseIfChanged(
        plan.checkId,
        batch,
        now,
        index === 0
          ? 'nothing was written'
          : `batches 1-${index} of ${batches.length} were applied (run ${runId}); this batch and the rest were not`,
      );
      const counts = await repair.apply(ctx, batch);
      if (options.pauseAfterBatch === index + 1) {
        options.onPause?.(plan.checkId, index + 1);
        await sleep(options.pauseSeconds ?? 60);
      }
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
  return withMigrationLock(db, () => repairAll(db, checkIds, options, runId), options.onWait);
}

/** The requirements of a plan with rows to change; none when it has nothing to do. */
function requirementsOf(repair: Repair, plan: RepairPlan, options: RepairOptions): Requirement[] {
  if (plan.notApplicable || (plan.keys.length === 0 && !plan.leftOver)) return [];
  return repair.requirements?.(options) ?? [];
}

/**
 * Before the first write of `--yes`: a repair that would need something missing (the secret
 * key) refuses the whole run, instead of stopping half-way after the repairs before it.
 */
async function refuseUnmetRequirements(db: Database, checkIds: readonly string[], options: RunOptions): Promise<void> {
  const unmet: string[] = [];
  for (const repair of orderedRepairs().filter((candidate) => checkIds.includes(candidate.checkId))) {
    const missing = (repair.requirements?.(options) ?? []).filter((need) => !need.met && !need.optional);
    if (missing.length === 0) continue;
    const plan = await planRepair(db.knex, repair, { ...options, sample: 0 });
    for (const need of requirementsOf(repair, plan, options).filter((req) => !req.met && !req.optional)) {
      unmet.push(`${repair.checkId} (${plan.keys.length} rows): ${need.what}, ${need.why}`);
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
  const repairs = orderedRepairs().filter((candidate) => wanted.has(candidate.checkId));
  for (const [index, repair] of repairs.entries()) {
    try {
      const plan = await planRepair(db.knex, repair, options, runId);
      const requirements = requirementsOf(repair, plan, options);
      if (!options.apply) {
        report.items.push({ plan, requirements });
        continue;
      }
      options.onStart?.(plan);
      const outcome = await applyRepair(db.knex, plan, options, runId);
      report.items.push({ plan, outcome, requirements });
    } catch (error) {
      // What ran before stays applied (each repair is its own transaction); say what did not.
      report.failed = { checkId: repair.checkId, error: classifyError(error) };
      report.notRun = repairs.slice(index + 1).map((rest) => rest.checkId);
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
