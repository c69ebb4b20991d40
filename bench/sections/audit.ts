// `igny8 audit` at size, against the floor measured in the same run on the same database.
// Order: one unmeasured audit (warms the cache as the floor's warm-up does, and tells which
// tables the checks read and how many scans each got), the floor, then the measured audits.
import { notAvailable, type BenchContext } from '../context.js';
import { statsDelta, type BenchDatabase, type TableStats } from '../postgres.js';
import { failureText, runIgny8, type ChildRun } from '../process.js';
import { median, TARGETS } from '../result.js';
import { measureFloor } from './floor.js';

export const AUDIT_ARGS = ['audit', '--format', 'json', '--fail-on', 'never'];

export interface CheckTiming {
  id: string;
  ms: number | undefined;
  count: number | undefined;
  status: string | undefined;
}

export interface AuditReport {
  totalMs: number | undefined;
  checks: CheckTiming[];
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Reads the audit's JSON document; tolerant of the duration field's name. */
export function parseAuditJson(text: string): AuditReport | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const list = Array.isArray(doc.checks) ? (doc.checks as Array<Record<string, unknown>>) : [];
  return {
    totalMs: num(doc.durationMs) ?? num(doc.duration_ms) ?? num(doc.duration),
    checks: list.map((check) => ({
      id: String(check.id),
      ms: num(check.durationMs) ?? num(check.duration_ms) ?? num(check.duration),
      count: num(check.count),
      status: typeof check.status === 'string' ? check.status : typeof check.outcome === 'string' ? check.outcome : undefined,
    })),
  };
}

async function settledStats(db: BenchDatabase): Promise<Map<string, TableStats>> {
  // A child's counters reach the shared statistics as its backends exit, just after it does.
  let previous = await db.tableStats();
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await db.tableStats();
    const same = [...now].every(([table, stat]) => {
      const before = previous.get(table);
      return before?.seqScan === stat.seqScan && before.idxScan === stat.idxScan;
    });
    if (same) return now;
    previous = now;
  }
  return previous;
}

export interface AuditAtSize {
  ok: boolean;
  runs: ChildRun[];
  reports: AuditReport[];
  reads: TableStats[];
}

/** Runs the measured audit (and its floor) on a seeded database; `prefix` names the figures. */
export async function benchAuditAt(ctx: BenchContext, db: BenchDatabase, prefix: string, shape: string): Promise<AuditAtSize> {
  const { rec, options } = ctx;
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  const failed: AuditAtSize = { ok: false, runs: [], reports: [], reads: [] };
  if (!(await ctx.has(['audit']))) {
    rec.missing(`${prefix}.total`, `audit (${shape})`, 'ms', 'not-available', notAvailable('audit'));
    return failed;
  }
  ctx.log(`audit on the ${shape} database: warm-up run`);
  const before = await settledStats(db);
  const warm = await runIgny8(AUDIT_ARGS, { env, memory: true });
  if (warm.code !== 0 && warm.code !== 1) {
    rec.missing(`${prefix}.total`, `audit (${shape})`, 'ms', 'failed', failureText(warm));
    return failed;
  }
  const reads = statsDelta(before, await settledStats(db));
  let tables = reads.map((read) => read.table);
  if (tables.length === 0) {
    // Statistics collection off: fall back to every igny8 table.
    tables = [...(await db.tableStats()).keys()].filter((table) => table.startsWith('igny8_') && table !== 'igny8_migrations');
  }
  ctx.log(`floor: ${tables.length} tables × ${options.runs} passes`);
  const floor = await measureFloor(db, tables, options.runs);
  const runs: ChildRun[] = [];
  for (let i = 0; i < options.auditRuns; i++) {
    ctx.log(`audit on the ${shape} database: run ${i + 1} of ${options.auditRuns}`);
    const run = await runIgny8(AUDIT_ARGS, { env, memory: true });
    if (run.code !== 0 && run.code !== 1) {
      rec.missing(`${prefix}.total`, `audit (${shape})`, 'ms', 'failed', failureText(run));
      return failed;
    }
    runs.push(run);
  }
  const totals = runs.map((run) => run.ms);
  const floorMs = median(floor.passesMs);
  rec.measured(`${prefix}.total`, `audit (${shape}), whole process`, 'ms', totals);
  rec.measured(`${prefix}.floor`, `floor: one full read of the ${floor.tables.length} tables the audit reads`, 'ms', floor.passesMs, {
    note: `jit ${floor.jit.chosen} (as configured ${Math.round(floor.jit.serverSettingMs)} ms, off ${Math.round(floor.jit.offMs)} ms)`,
  });
  rec.measured(`${prefix}.floor-count`, 'floor with count(*) only (for reference)', 'ms', floor.countStarPassesMs);
  rec.measured(`${prefix}.ratio`, `audit / floor (${shape})`, '×', median(totals) / floorMs, { target: TARGETS.auditRatio });
  const rss = runs.map((run) => run.peakRssMb).filter((value): value is number => value !== undefined);
  if (rss.length > 0) {
    rec.measured(`${prefix}.rss`, `peak RSS of igny8 audit (${shape})`, 'MiB', Math.max(...rss), { target: TARGETS.auditRss, note: 'highest of the measured runs' });
  }
  const reports = runs.map((run) => parseAuditJson(run.stdout)).filter((report): report is AuditReport => report !== undefined);
  const perCheck = new Map<string, number[]>();
  for (const report of reports) {
    for (const check of report.checks) if (check.ms !== undefined) perCheck.set(check.id, [...(perCheck.get(check.id) ?? []), check.ms]);
  }
  const last = reports[reports.length - 1];
  if (reports.length === 0) {
    rec.missing(`${prefix}.checks`, 'per-check times', 'ms', 'failed', 'the audit printed no JSON document');
  } else if (perCheck.size === 0) {
    rec.missing(`${prefix}.checks`, 'per-check times', 'ms', 'not-available', 'the audit JSON carries no per-check duration');
  } else {
    const inProcess = reports.map((report) => report.totalMs).filter((ms): ms is number => ms !== undefined);
    if (inProcess.length > 0) {
      rec.measured(`${prefix}.in-process`, `audit (${shape}), checks only (its own duration)`, 'ms', inProcess);
      rec.measured(`${prefix}.in-process-ratio`, '  checks only / floor (for reference)', '×', median(inProcess) / floorMs);
    }
    for (const check of last.checks) {
      const ms = perCheck.get(check.id);
      if (ms) rec.measured(`${prefix}.check.${check.id}`, `  ${check.id}`, 'ms', ms, { note: `${check.status ?? ''} ${check.count ?? ''}`.trim() });
    }
  }
  rec.detail(prefix, {
    shape,
    database: db.name,
    floor,
    reads,
    exitCodes: runs.map((run) => run.code),
    findings: last?.checks.map(({ id, count, status }) => ({ id, count, status })),
  });
  return { ok: true, runs, reports, reads };
}
