// Runs checks against one database snapshot and turns their outcomes into a report: a
// status per check, totals, and the verdict against --fail-on. Fail closed: a check that
// errors fails the run, and a run in which no check ran is never a pass.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { RULES } from '../rules/registry.js';
import type { Sample } from '../rules/finding.js';
import { judgeRule } from '../rules/judge.js';
import { ledgerWalkAdvice } from '../rules/ledger.js';
import { scopedAccounts } from '../rules/sql.js';
import { readShape } from '../rules/shape.js';
import type { Rule, Severity, Shape } from '../rules/types.js';
import { classifyError, DatabaseUnavailable, DomainRefusal, ExitCode, sqlState, ValidationError } from '../errors.js';
import { inspectSchema, type SchemaInfo } from '../schema/inspect.js';
import { isActive, suppressionsFor, type CheckTuning, type Suppression } from './config.js';
import { historyTablesPresent, recordAudit } from './history.js';
import { changedSince, currentMark, lastMark, readJournal, settleLedger, type Journal, type MarkToRecord } from './journal.js';
import { plural } from '../render/text.js';
import { failsGate } from './gate.js';

export type FailOn = 'error' | 'warning' | 'never';
export type CheckStatus = 'ok' | 'findings' | 'suppressed' | 'enforced' | 'not-applicable' | 'error';

export interface CheckResult {
  id: string;
  severity: Severity;
  title: string;
  remedy: string;
  repairable: boolean;
  status: CheckStatus;
  /** Rows found, suppressed ones excluded. */
  count: number;
  /** Rows silenced by suppressions. */
  suppressed: number;
  samples: Sample[];
  /** The constraint that guarantees the check (status enforced). */
  enforcedBy?: string;
  /** Why the check does not apply (status not-applicable). */
  reason?: string;
  /** The query's error (status error). */
  error?: string;
  /** Suppressions applied or expired, in words. */
  notes: string[];
  /** Findings tolerated by a threshold (`warnAbove`): counted, shown, never failing. */
  tolerated?: boolean;
  durationMs: number;
}

export interface AuditTotals {
  checks: number;
  ok: number;
  withFindings: number;
  suppressed: number;
  enforced: number;
  notApplicable: number;
  errored: number;
  /** Finding rows over all checks, by severity. */
  rows: number;
  errorRows: number;
  warningRows: number;
  suppressedRows: number;
}

export interface AuditReport {
  runId: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The last applied migration, or null on a database igny8 never migrated. */
  schemaVersion: string | null;
  account: string | null;
  failOn: FailOn;
  checks: CheckResult[];
  totals: AuditTotals;
  passed: boolean;
  exitCode: number;
  /** Why the run failed when no finding explains it (a check errored, none ran). */
  failure: string | null;
  /** `--incremental`: what the run was limited to. */
  incremental?: IncrementalScope;
  /** True when this run, recorded, moved the mark `--incremental` starts from. */
  movedMark?: boolean;
}

/** What an incremental run audited: the accounts changed since a recorded run. */
export interface IncrementalScope {
  /** The recorded run the changes are counted from. */
  sinceRunId: string;
  sinceStartedAt: string;
  /** How many accounts changed, or 'all' when a shared table (plans, industries) changed. */
  accounts: number | 'all';
  /** The checks run over every account all the same (they span accounts or depend on time). */
  inFull: string[];
}

export interface AuditOptions {
  checks?: readonly Rule[];
  sample?: number;
  accountSlug?: string;
  suppressions?: readonly Suppression[];
  /** Per-check tuning from igny8.config.json: severity, thresholds, enabled. */
  tuning?: Readonly<Partial<Record<string, CheckTuning>>>;
  failOn?: FailOn;
  record?: boolean;
  now?: Date;
  onCheck?: (check: Rule, index: number, total: number) => void;
  /** Told about a change of plan worth a line (the audit fell back to one connection). */
  onNotice?: (message: string) => void;
  /** The credential key, when given: the rule that verifies stored credentials needs it. */
  credentialKey?: Buffer;
  /** Connections to run checks on at once (a server; the embedded database has one). */
  concurrency?: number;
  /**
   * Only the accounts changed since the last recorded run that moved the mark (a full one,
   * or an incremental one), for the checks scoped by account; the others run in full.
   */
  incremental?: boolean;
  /**
   * How long a run that may move the mark waits for the transactions writing the ledger when
   * it starts (journal.ts, settleLedger); past it, the run is recorded and the mark stays.
   */
  ledgerWaitMs?: number;
  /** From how many ledger rows (the statistics' estimate) the run advises the walk index; default WALK_ADVICE_ROWS. */
  walkAdviceRows?: number;
}

/** Long enough for any grant or billing run, short enough that a forgotten session cannot hold a gate. */
const LEDGER_WAIT_MS = 30_000;

async function schemaVersion(knex: Knex, schema: SchemaInfo): Promise<string | null> {
  if (!schema.hasTable('igny8_migrations')) return null;
  const result = await knex.raw('select max(name) as name from igny8_migrations');
  return (result.rows[0]?.name as string | null) ?? null;
}

async function resolveAccount(knex: Knex, schema: SchemaInfo, slug: string): Promise<number> {
  const result = await knex.raw(`select id from ${schema.accountsTable} where slug = ?`, [slug]);
  if (result.rows.length === 0) throw new ValidationError('--account', `no account has the slug ${JSON.stringify(slug)}`);
  return Number(result.rows[0].id);
}

async function runOne(
  trx: Knex.Transaction,
  shape: Shape,
  check: Rule,
  options: AuditOptions & { sample: number },
  now: Date,
): Promise<CheckResult> {
  const plan = suppressionsFor(check.id, options.suppressions ?? [], now);
  const tuning = options.tuning?.[check.id];
  const started = performance.now();
  const result: CheckResult = {
    id: check.id,
    severity: tuning?.severity ?? check.severity,
    title: check.title,
    remedy: check.remedy,
    repairable: check.repair !== undefined,
    status: 'ok',
    count: 0,
    suppressed: 0,
    samples: [],
    notes: [],
    durationMs: 0,
  };
  try {
    const verdict = tuning?.enabled === false ? undefined : check.verdict(shape);
    if (tuning?.enabled === false) {
      result.status = 'not-applicable';
      result.reason = 'disabled in igny8.config.json';
    } else if (verdict?.kind === 'enforced') {
      result.status = 'enforced';
      result.enforcedBy = verdict.by;
    } else if (verdict?.kind === 'not-applicable') {
      result.status = 'not-applicable';
      result.reason = verdict.reason;
    } else {
      // A savepoint per check: one failing query must not abort the snapshot the others read.
      const outcome = await trx.transaction((savepoint) =>
        judgeRule(savepoint, check, shape, { sample: options.sample, suppressedKeys: plan.activeKeys }),
      );
      result.count = outcome.count;
      result.suppressed = outcome.suppressed;
      result.samples = outcome.samples;
      result.status = outcome.count > 0 ? 'findings' : 'ok';
      const graded = grade(check.severity, tuning, outcome.count);
      result.severity = graded.severity;
      if (graded.tolerated) result.tolerated = true;
      if (graded.note) result.notes.push(graded.note);
      if (result.suppressed > 0) {
        result.notes.push(`${plural(result.suppressed, 'row')} suppressed by key`);
      }
      if (plan.whole && outcome.count > 0) {
        result.status = 'suppressed';
        result.suppressed += outcome.count;
        result.count = 0;
        result.samples = [];
        result.notes.push(`suppressed${plan.whole.until ? ` until ${plan.whole.until}` : ''}: ${plan.whole.reason}`);
      }
    }
    for (const expired of plan.expired) {
      const what = expired.keys ? `of ${expired.keys.join(', ')}` : 'of the whole check';
      result.notes.push(`suppression ${what} expired on ${expired.until}: counted again (${expired.reason})`);
    }
  } catch (error) {
    const failure = classifyError(error);
    if (failure instanceof DatabaseUnavailable) throw failure;
    const state = sqlState(error);
    result.status = 'error';
    result.error = `${failure.message}${state ? ` (SQLSTATE ${state})` : ''}`;
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

export function totalsOf(results: readonly CheckResult[]): AuditTotals {
  const count = (status: CheckStatus) => results.filter((result) => result.status === status).length;
  const rows = (severity?: Severity) =>
    results
      .filter((result) => severity === undefined || result.severity === severity)
      .reduce((sum, result) => sum + result.count, 0);
  return {
    checks: results.length,
    ok: count('ok'),
    withFindings: count('findings'),
    suppressed: count('suppressed'),
    enforced: count('enforced'),
    notApplicable: count('not-applicable'),
    errored: count('error'),
    rows: rows(),
    errorRows: rows('error'),
    warningRows: rows('warning'),
    suppressedRows: results.reduce((sum, result) => sum + result.suppressed, 0),
  };
}

/** The verdict: exit 1 on findings at or above failOn, on any errored check, or when nothing ran. */
export function verdict(results: readonly CheckResult[], failOn: FailOn): { exitCode: number; failure: string | null } {
  const errored = results.filter((result) => result.status === 'error');
  if (errored.length > 0) {
    return { exitCode: ExitCode.findings, failure: `${plural(errored.length, 'check')} failed to run: ${errored.map((result) => result.id).join(', ')}` };
  }
  const ran = results.filter((result) => result.status !== 'not-applicable');
  if (ran.length === 0) {
    return { exitCode: ExitCode.findings, failure: 'no check ran: none applies to this database (fail closed)' };
  }
  const gating = results.filter((result) => failsGate(result, failOn));
  return { exitCode: gating.length > 0 ? ExitCode.findings : ExitCode.ok, failure: null };
}

/**
 * A check's severity for `count` findings under its tuning (docs/audit.md, "Tuning"): with no
 * thresholds, its (configured) severity; with thresholds, an error above `errorAbove`, a
 * warning above `warnAbove`, and tolerated at or below it. `warnAbove` defaults to 0;
 * `errorAbove` to `warnAbove` for an error check (so `warnAbove: 10` tolerates up to ten and
 * fails above), and to never for a warning check.
 */
export function grade(
  base: Severity,
  tuning: CheckTuning | undefined,
  count: number,
): { severity: Severity; tolerated: boolean; note?: string } {
  const severity = tuning?.severity ?? base;
  if (tuning?.warnAbove === undefined && tuning?.errorAbove === undefined) return { severity, tolerated: false };
  const warnAbove = tuning.warnAbove ?? 0;
  const errorAbove = tuning.errorAbove ?? (severity === 'error' ? warnAbove : Number.POSITIVE_INFINITY);
  const limits = [tuning.warnAbove !== undefined ? `warnAbove ${warnAbove}` : '', tuning.errorAbove !== undefined ? `errorAbove ${errorAbove}` : '']
    .filter(Boolean)
    .join(', ');
  if (count > errorAbove) return { severity: 'error', tolerated: false, note: `above the threshold (${limits})` };
  if (count > warnAbove) return { severity: 'warning', tolerated: false, note: `above the threshold (${limits})` };
  return { severity, tolerated: count > 0, note: count > 0 ? `within the threshold (${limits}): tolerated` : undefined };
}

/** Per-transaction settings: big aggregates stay in memory instead of spilling to disk, and
 * JIT compiling twenty one-off queries costs more than it saves. Both end with the transaction. */
async function tune(trx: Knex.Transaction): Promise<void> {
  await trx.raw(`select set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`);
}

/** Another connection could not import the exported snapshot (a pooler between us and the server). */
class SnapshotNotShared extends Error {
  constructor(options: { cause: unknown }) {
    super('the exported snapshot could not be imported', options);
  }
}

interface Snapshot {
  /** The snapshot the checks read, when the journal exists: the mark a recorded run keeps. */
  mark?: string;
  incremental?: IncrementalScope;
  /** The run's advice about the ledger's walk index, once judged ('' for none). */
  advice?: string;
}

/**
 * The shape each check is judged against in this snapshot. Under --incremental, a rule scoped
 * by account sees only the changed accounts, unless a suppression of its rows expired since
 * the recorded run (those rows count again in every account); every other rule sees all.
 */
async function shapesFor(
  trx: Knex.Transaction,
  checks: readonly Rule[],
  options: AuditOptions,
  now: Date,
  accountId: number | undefined,
  journal: Journal | undefined,
  snapshot: Snapshot,
): Promise<(check: Rule) => Shape> {
  const whole = await readShape(trx, accountId, options.credentialKey);
  if (journal) snapshot.mark ??= await currentMark(trx);
  if (!options.incremental || !journal) return () => whole;
  // Read in the snapshot itself: a run recorded meanwhile cannot shift what this one covers.
  const since = await lastMark(trx, journal);
  if (!since) throw noMarkRefusal();
  const changed = await changedSince(trx, since);
  const sinceDate = new Date(since.startedAt);
  const inFull = (check: Rule) =>
    check.scope !== 'account' ||
    suppressionsFor(check.id, options.suppressions ?? [], now).expired.some((suppression) => isActive(suppression, sinceDate));
  snapshot.incremental ??= {
    sinceRunId: since.runId,
    sinceStartedAt: since.startedAt,
    accounts: changed.all ? 'all' : changed.accountIds.length,
    inFull: checks.filter(inFull).map((check) => check.id),
  };
  const byAccount = changed.all ? whole : { ...whole, accountIds: changed.accountIds };
  return (check) => (inFull(check) ? whole : byAccount);
}

function noMarkRefusal(): DomainRefusal {
  return new DomainRefusal('--incremental: no recorded audit to count changes from; run `igny8 audit --record` once first', {
    code: 'no-recorded-audit',
    details: ['a recorded run of every check over every account (no --check, --exclude or --account) sets the mark'],
  });
}

/**
 * Runs the checks against ONE snapshot, so the counts of a run describe one moment. With
 * several connections, the first exports its snapshot and the others import it
 * (SET TRANSACTION SNAPSHOT), then take checks from a shared queue.
 */
async function runChecks(
  knex: Knex,
  checks: readonly Rule[],
  options: AuditOptions & { sample: number },
  now: Date,
  accountId: number | undefined,
  journal: Journal | undefined,
): Promise<{ results: CheckResult[]; snapshot: Snapshot }> {
  const results: CheckResult[] = new Array(checks.length);
  const snapshot: Snapshot = {};
  let next = 0;
  let started = 0;
  const work = async (trx: Knex.Transaction) => {
    await tune(trx);
    const shapeOf = await shapesFor(trx, checks, options, now, accountId, journal, snapshot);
    if (snapshot.advice === undefined) {
      // Judged by the first connection to read the shape, for the checks that run over every account.
      const unscoped = checks.filter((check) => scopedAccounts(shapeOf(check)) === undefined);
      snapshot.advice = unscoped.length > 0 ? (ledgerWalkAdvice(shapeOf(unscoped[0]!), unscoped, options.walkAdviceRows) ?? '') : '';
      if (snapshot.advice !== '') options.onNotice?.(snapshot.advice);
    }
    while (next < checks.length) {
      const index = next++;
      const check = checks[index];
      options.onCheck?.(check, started++, checks.length);
      results[index] = await runOne(trx, shapeOf(check), check, options, now);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 1, checks.length));
  const repeatable = { isolationLevel: 'repeatable read' as const };
  if (workers === 1) {
    await knex.transaction(work, repeatable);
    return { results, snapshot };
  }
  let shared = false;
  const runShared = () =>
    knex.transaction(async (leader) => {
      const exported = await leader.raw('select pg_export_snapshot() as id');
      const snapshot = String(exported.rows[0].id);
      if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id ${snapshot}`);
      shared = true;
      // Settled, not all(): a worker still running must not race the fallback for the queue.
      const outcomes = await Promise.allSettled(
        Array.from({ length: workers }, () =>
          knex.transaction(async (trx) => {
            try {
              await trx.raw(`set transaction snapshot '${snapshot}'`);
            } catch (error) {
              throw new SnapshotNotShared({ cause: error });
            }
            await work(trx);
          }, repeatable),
        ),
      );
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }, repeatable);
  try {
    await runShared();
  } catch (error) {
    // A server that cannot export a snapshot (some poolers and proxies) still gets an audit,
    // on one connection, from the start.
    if ((shared && !(error instanceof SnapshotNotShared)) || classifyError(error) instanceof DatabaseUnavailable) throw error;
    options.onNotice?.(
      'the server would not share one snapshot between connections (a pooler in transaction mode?): auditing on one connection',
    );
    next = 0;
    started = 0;
    await knex.transaction(work, repeatable);
  }
  return { results, snapshot };
}

export async function runAudit(knex: Knex, options: AuditOptions = {}): Promise<AuditReport> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const startedAt = new Date();
  const schema = await inspectSchema(knex);
  if (!schema.isIgny8Database) {
    throw new DomainRefusal(
      'no check can run: this database has no igny8 tables (fail closed). Run `igny8 migrate` on a new database, or `igny8 migrate adopt` on a legacy one',
    );
  }
  if (options.record && !(await historyTablesPresent(knex))) {
    throw new DomainRefusal(
      '--record: the audit history tables (igny8_audit_runs, igny8_audit_findings) do not exist yet; `igny8 migrate` adds them',
    );
  }
  const journal = (await historyTablesPresent(knex)) ? await readJournal(knex) : undefined;
  if (options.incremental) await requireIncremental(knex, schema, journal);
  const accountId = options.accountSlug === undefined ? undefined : await resolveAccount(knex, schema, options.accountSlug);
  const checks = options.checks ?? RULES;
  const failOn = options.failOn ?? 'error';
  const version = await schemaVersion(knex, schema);
  // Only a run that judges every account with every check may move the mark; where the ledger
  // is read by id, it settles the ledger before its snapshot is taken.
  const mayMoveMark = options.record === true && journal !== undefined && accountId === undefined && RULES.every((rule) => checks.includes(rule));
  let ledgerBound: number | null = null;
  let ledgerSettled = true;
  if (mayMoveMark && journal.ledgerBound) {
    ledgerBound = (await settleLedger(knex, options.ledgerWaitMs ?? LEDGER_WAIT_MS)) ?? null;
    ledgerSettled = ledgerBound !== null;
    if (!ledgerSettled) {
      options.onNotice?.(
        'a transaction writing the ledger stayed open while this run started: it is recorded, but `audit --incremental` still counts from the previous mark',
      );
    }
  }
  const { results, snapshot } = await runChecks(knex, checks, { ...options, sample: options.sample ?? 3 }, now, accountId, journal);
  const { exitCode, failure } = verdict(results, failOn);
  const finishedAt = new Date();
  const report: AuditReport = {
    runId: null,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    schemaVersion: version,
    account: options.accountSlug ?? null,
    failOn,
    checks: results,
    totals: totalsOf(results),
    passed: exitCode === ExitCode.ok,
    exitCode,
    failure,
    ...(snapshot.incremental ? { incremental: snapshot.incremental } : {}),
  };
  if (options.record) {
    report.runId = randomUUID();
    // Only a run that judged every account the journal says changed, with every check, may
    // move the mark: one limited to an account or some checks leaves it where it was.
    const complete = mayMoveMark && ledgerSettled && results.every((result) => result.status !== 'error');
    const mark: MarkToRecord | undefined = complete && snapshot.mark !== undefined ? { snapshot: snapshot.mark, ledger: ledgerBound } : undefined;
    report.movedMark = mark !== undefined;
    await recordAudit(knex, report, mark);
  }
  return report;
}

/** `--incremental` refuses (exit 3) where it cannot tell what changed. */
async function requireIncremental(knex: Knex, schema: SchemaInfo, journal: Journal | undefined): Promise<void> {
  if (!journal || schema.accountsTable !== 'igny8_accounts') {
    throw new DomainRefusal('--incremental needs the change journal of the migrated schema; this database has none', {
      code: 'no-change-journal',
      details: [
        schema.accountsTable !== 'igny8_accounts'
          ? 'on the legacy shape, audit in full (without --incremental)'
          : '`igny8 migrate` adds it (migration 0070_account_change_journal); then `igny8 audit --record` sets the first mark',
      ],
    });
  }
  if (!(await lastMark(knex, journal))) throw noMarkRefusal();
}
