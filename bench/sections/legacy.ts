// The ops journey at size, on throwaway databases:
//  1. `seed legacy` with every defect kind → the seed figure, then the audit against its floor,
//     the naive baseline, the audit again with the ledger's walk index built by hand (as the
//     audit advises on a large ledger in arrival order), and the audit again after `migrate
//     --phase expand` (the first step of a rollout: the schema a production database lives on
//     until contract);
//  2. a second seed with only repairable defects (the others block migrations until a person
//     decides) → `repair --all --yes`, the whole migration chain (`igny8 migrate`), and the
//     audit again on the target shape.
import { LEDGER, LEDGER_WALK_INDEX, ledgerWalkIndexSql } from '../../src/rules/ledger.js';
import { notAvailable, type BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8, type ChildRun } from '../process.js';
import { median, TARGETS, type Target } from '../result.js';
import { AUDIT_ARGS, benchAuditAt, parseAuditJson } from './audit.js';
import { benchNaive } from './naive.js';
import { seedLegacy } from './seed.js';

/** The audit on the production layout against the same audit on the ordered one, and against the naive baseline. */
const ARRIVAL_VS_ORDERED: Target = { op: '<=', limit: 1.25, text: '≤ 1.25× ordered' };
const AUDIT_VS_NAIVE: Target = { op: '<=', limit: 0.5, text: '≤ 0.5× naive' };

async function dropUnlessKept(ctx: BenchContext, db: BenchDatabase): Promise<void> {
  if (ctx.options.keep) ctx.log(`kept database ${db.name}`);
  else await db.drop();
}

interface LegacySections {
  seed: boolean;
  audit: boolean;
  naive: boolean;
  walk: boolean;
  expand: boolean;
  jobs: boolean;
  journey: boolean;
}

/**
 * One shape in each layout, side by side: seed, audit (against its floor), the naive baseline
 * (its counts must equal the audit's), and on the first layout of the first shape the audit
 * at each --jobs value. Then the ratios the production layout is held to.
 */
async function benchShape(ctx: BenchContext, shape: string, sections: LegacySections): Promise<void> {
  const { rec, options } = ctx;
  const checksMs: Partial<Record<string, number>> = {};
  const expandedMs: Partial<Record<string, number>> = {};
  const walkMs: Partial<Record<string, number>> = {};
  for (const layout of options.layouts) {
    const tag = `${shape}.${layout}`;
    const label = `legacy, ${shape}, ${layout}`;
    const outcome = await seedLegacy(ctx, `${shape}_${layout}`, ['--layout', layout, '--shape', shape]);
    if (!outcome.ok) {
      rec.missing(`seed.${tag}`, `seed legacy --layout ${layout} --shape ${shape}`, 's', 'failed', outcome.error, TARGETS.seed);
      continue;
    }
    const { seeded } = outcome;
    rec.measured(`seed.${tag}`, `seed legacy --accounts ${options.accounts} --layout ${layout} --shape ${shape}`, 's', seeded.seedMs / 1000, {
      target: TARGETS.seed,
      note: rowsNote(seeded.rows, options.accounts),
    });
    if (seeded.seedRssMb !== undefined) rec.measured(`seed.${tag}.rss`, '  peak RSS of igny8 seed legacy', 'MiB', seeded.seedRssMb);
    rec.detail(`seed.${tag}`, { database: seeded.db.name, vacuumAnalyzeMs: Math.round(seeded.vacuumMs), rows: seeded.rows, bytes: seeded.bytes, report: seeded.report });
    try {
      if (sections.audit || sections.naive) {
        const audit = await benchAuditAt(ctx, seeded.db, `audit.${tag}`, label);
        checksMs[layout] = medianChecksMs(audit.reports);
        if (sections.naive && audit.ok) {
          const naiveMs = await benchNaive(ctx, seeded.db, `naive.${tag}`, label, audit.reports[audit.reports.length - 1]);
          const checks = checksMs[layout];
          if (naiveMs !== undefined && checks !== undefined) {
            rec.measured(`audit.${tag}.vs-naive`, `audit checks / naive baseline (${shape}, ${layout})`, '×', checks / naiveMs, { target: AUDIT_VS_NAIVE });
          }
        }
      }
      if (sections.jobs && shape === options.shapes[0] && layout === options.layouts[0]) await benchJobs(ctx, seeded.db, label);
      if (sections.walk) {
        const checks = await benchWalkIndex(ctx, seeded.db, tag, label);
        if (checks !== undefined) walkMs[layout] = checks;
      }
      if (sections.expand) {
        const checks = await benchExpanded(ctx, seeded.db, tag, label);
        if (checks !== undefined) expandedMs[layout] = checks;
      }
    } finally {
      await dropUnlessKept(ctx, seeded.db);
    }
  }
  if (checksMs.arrival !== undefined && checksMs.ordered !== undefined) {
    rec.measured(`audit.${shape}.arrival-vs-ordered`, `audit checks, arrival / ordered layout (${shape})`, '×', checksMs.arrival / checksMs.ordered, {
      target: ARRIVAL_VS_ORDERED,
    });
  }
  if (walkMs.arrival !== undefined && walkMs.ordered !== undefined) {
    rec.measured(
      `audit.${shape}.walk.arrival-vs-ordered`,
      `audit checks with the walk index built by hand, arrival / ordered layout (${shape})`,
      '×',
      walkMs.arrival / walkMs.ordered,
      { target: ARRIVAL_VS_ORDERED },
    );
  }
  if (expandedMs.arrival !== undefined && expandedMs.ordered !== undefined) {
    rec.measured(
      `audit.${shape}.expanded.arrival-vs-ordered`,
      `audit checks after expand, arrival / ordered layout (${shape})`,
      '×',
      expandedMs.arrival / expandedMs.ordered,
      { target: ARRIVAL_VS_ORDERED },
    );
  }
}

/**
 * The ledger's walk index built on the legacy schema with the statement the audit advises, then
 * the audit again; dropped afterwards, so that expand builds it as a rollout does. Returns the
 * audit's checks time (median).
 */
async function benchWalkIndex(ctx: BenchContext, db: BenchDatabase, tag: string, label: string): Promise<number | undefined> {
  const { rec } = ctx;
  ctx.log(`the ledger's walk index, built by hand on the ${label} database`);
  const started = performance.now();
  await db.query(ledgerWalkIndexSql('tenant_id'));
  rec.measured(`walk.${tag}`, `  create index concurrently ${LEDGER_WALK_INDEX} (${label})`, 's', (performance.now() - started) / 1000);
  try {
    await db.query(`analyze ${LEDGER}`);
    const audit = await benchAuditAt(ctx, db, `audit.${tag}.walk`, `${label}, walk index built by hand`);
    return medianChecksMs(audit.reports);
  } finally {
    await db.query(`drop index ${LEDGER_WALK_INDEX}`);
  }
}

/**
 * `igny8 migrate --phase expand` on the seeded database (no gate waits for a repair in expand),
 * then the audit again: the schema the database lives on from the first step of a rollout,
 * with the ledger's walk index. Returns the audit's checks time (median).
 */
async function benchExpanded(ctx: BenchContext, db: BenchDatabase, tag: string, label: string): Promise<number | undefined> {
  const { rec } = ctx;
  ctx.log(`igny8 migrate --phase expand on the ${label} database`);
  const expand = await runIgny8(['--json', 'migrate', '--phase', 'expand'], { env: { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey } });
  if (expand.code !== 0) {
    rec.missing(`expand.${tag}`, `migrate --phase expand (${label})`, 's', 'failed', failureText(expand));
    return undefined;
  }
  rec.measured(`expand.${tag}`, `migrate --phase expand (${label})`, 's', expand.ms / 1000);
  await db.query('vacuum (analyze)');
  const audit = await benchAuditAt(ctx, db, `audit.${tag}.expanded`, `${label}, after expand`);
  return medianChecksMs(audit.reports);
}

/** The median of the audits' own durations (their checks), undefined where none reported one. */
function medianChecksMs(reports: ReadonlyArray<{ totalMs?: number }>): number | undefined {
  const inProcess = reports.map((report) => report.totalMs).filter((ms): ms is number => ms !== undefined);
  return inProcess.length > 0 ? median(inProcess) : undefined;
}

function rowsNote(rows: Record<string, number>, accounts: number): string {
  const per = (table: string) => ((rows[table] ?? 0) / accounts).toFixed(2);
  return `per account: users ${per('igny8_users')}, sites ${per('igny8_sites')}, sectors ${per('igny8_sectors')}, ledger ${per('igny8_credit_transactions')}`;
}

/** `audit --jobs N` for each N, on a database the audit has just warmed. */
async function benchJobs(ctx: BenchContext, db: BenchDatabase, label: string): Promise<void> {
  const { rec, options } = ctx;
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  for (const jobs of options.jobs) {
    const whole: number[] = [];
    const checks: number[] = [];
    for (let i = 0; i < options.auditRuns; i++) {
      ctx.log(`audit --jobs ${jobs} on the ${label} database: run ${i + 1} of ${options.auditRuns}`);
      const run = await runIgny8([...AUDIT_ARGS, '--jobs', String(jobs)], { env });
      if (run.code !== 0 && run.code !== 1) {
        rec.missing(`jobs.${jobs}`, `audit --jobs ${jobs} (${label})`, 'ms', 'failed', failureText(run));
        break;
      }
      whole.push(run.ms);
      const report = parseAuditJson(run.stdout);
      if (report?.totalMs !== undefined) checks.push(report.totalMs);
    }
    if (checks.length > 0) {
      rec.measured(`jobs.${jobs}`, `audit --jobs ${jobs} (${label}), checks only`, 'ms', checks, {
        note: `whole process ${Math.round(median(whole))} ms`,
      });
    }
  }
}

export async function benchLegacy(ctx: BenchContext, sections: LegacySections): Promise<void> {
  const { rec } = ctx;
  if (!(await ctx.has(['seed', 'legacy']))) {
    const note = notAvailable('seed legacy');
    rec.missing('seed', 'seed legacy', 's', 'not-available', note, TARGETS.seed);
    if (sections.audit) rec.missing('audit.total', 'audit (legacy)', 'ms', 'not-available', `${note} (nothing to audit)`);
    if (sections.journey) {
      rec.missing('repair', 'repair --all --yes', 's', 'not-available', note);
      rec.missing('migrate', 'migration chain (igny8 migrate)', 's', 'not-available', note, TARGETS.migrate);
    }
    return;
  }
  if (sections.seed || sections.audit || sections.naive || sections.jobs) {
    for (const shape of ctx.options.shapes) await benchShape(ctx, shape, sections);
  }
  if (sections.journey) await benchJourney(ctx);
}

async function seedHelp(): Promise<string> {
  return (await runIgny8(['seed', 'legacy', '--help'])).stdout;
}

type RepairReport = { repairs?: Array<{ checkId: string; durationMs?: number; repaired?: number; batches?: number }> };
type MigrateReport = { results?: Array<{ name: string; status: string; durationMs: number }> };

/**
 * The ops journey: `igny8 migrate` applies what needs no clean data (the repair log, the
 * renames) and stops, refusing, at the first migration whose data precondition fails; then
 * `repair --all --yes`; then `igny8 migrate` applies the rest. The chain's figure is the two
 * migrate processes together. Without repairs (not built yet) the chain runs once on a seed
 * without defects.
 */
async function benchJourney(ctx: BenchContext): Promise<void> {
  const { rec } = ctx;
  const canRepair = await ctx.has(['repair']);
  const help = await seedHelp();
  let seedArgs: string[];
  let seedNote: string;
  if (canRepair && /--defects\b/.test(help)) {
    seedArgs = ['--defects', 'repairable'];
    seedNote = 'repairable defects';
  } else if (!canRepair && /--defect-rate\b/.test(help)) {
    seedArgs = ['--defect-rate', '0'];
    seedNote = 'no defects: repair not available yet';
  } else {
    seedArgs = [];
    seedNote = 'every defect kind';
  }
  // The ops journey runs on the bench's headline data: the first shape in the first layout.
  if (/--layout\b/.test(help)) seedArgs.push('--layout', ctx.options.layouts[0], '--shape', ctx.options.shapes[0]);
  const outcome = await seedLegacy(ctx, 'journey', seedArgs);
  if (!outcome.ok) {
    rec.missing('repair', 'repair --all --yes', 's', 'failed', `seed: ${outcome.error}`);
    rec.missing('migrate', 'migration chain (igny8 migrate)', 's', 'failed', `seed: ${outcome.error}`, TARGETS.migrate);
    return;
  }
  const { db } = outcome.seeded;
  rec.measured('journey.seed', `seed legacy (${seedNote})`, 's', outcome.seeded.seedMs / 1000);
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  const migrations: Array<{ name: string; status: string; durationMs: number; pass: number }> = [];
  const migrateRuns: ChildRun[] = [];
  const migrate = async (pass: number): Promise<ChildRun> => {
    ctx.log(`igny8 migrate (pass ${pass})`);
    const run = await runIgny8(['--json', 'migrate'], { env, memory: true });
    const report = parseJson(run.stdout) as MigrateReport | undefined;
    for (const { name, status, durationMs } of report?.results ?? []) migrations.push({ name, status, durationMs, pass });
    migrateRuns.push(run);
    return run;
  };
  try {
    if (canRepair) {
      const first = await migrate(1);
      // A refusal (exit 3) is the expected stop before the first migration that needs repairs.
      if (first.code !== 0 && first.code !== 3) {
        rec.missing('migrate', 'migration chain (igny8 migrate)', 's', 'failed', failureText(first), TARGETS.migrate);
        return;
      }
      const [industry] = await db.query<{ slug: string }>('select slug from igny8_industries where is_active order by id limit 1');
      const args = ['--json', 'repair', '--all', '--yes', ...(industry ? ['--default-industry', industry.slug] : [])];
      ctx.log(`igny8 ${args.join(' ')}`);
      const repair = await runIgny8(args, { env, memory: true });
      if (repair.code !== 0) {
        rec.missing('repair', 'repair --all --yes', 's', 'failed', failureText(repair));
        return;
      }
      rec.measured('repair', `repair --all --yes (${seedNote})`, 's', repair.ms / 1000);
      if (repair.peakRssMb !== undefined) rec.measured('repair.rss', 'peak RSS of igny8 repair', 'MiB', repair.peakRssMb, { target: TARGETS.repairRss });
      const report = parseJson(repair.stdout) as RepairReport | undefined;
      for (const item of report?.repairs ?? []) {
        if (typeof item.durationMs !== 'number') continue;
        rec.measured(`repair.${item.checkId}`, `  ${item.checkId}`, 'ms', item.durationMs, {
          note: `${item.repaired ?? 0} repaired${item.batches ? ` in ${item.batches} batch${item.batches === 1 ? '' : 'es'}` : ''}`,
        });
      }
      rec.detail('repair', { database: db.name, report });
      if (first.code === 0) ctx.log('the first migrate pass was not refused: nothing left for the second');
    } else {
      rec.missing('repair', 'repair --all --yes', 's', 'not-available', notAvailable('repair'));
    }
    const last = await migrate(migrateRuns.length + 1);
    rec.detail('migrate', { database: db.name, migrations });
    if (last.code !== 0) {
      rec.missing('migrate', 'migration chain (igny8 migrate)', 's', 'failed', failureText(last), TARGETS.migrate);
      return;
    }
    const applied = migrations.filter((migration) => migration.status === 'applied');
    const chainMs = migrateRuns.reduce((sum, run) => sum + run.ms, 0);
    rec.measured('migrate', `migration chain, ${applied.length} migrations (${migrateRuns.length} igny8 migrate runs)`, 's', chainMs / 1000, {
      target: TARGETS.migrate,
      note: migrateRuns.length > 1 ? 'both passes: the one refused at the first gate, and the one after the repairs' : undefined,
    });
    const rss = migrateRuns.map((run) => run.peakRssMb).filter((value): value is number => value !== undefined);
    if (rss.length > 0) rec.measured('migrate.rss', 'peak RSS of igny8 migrate', 'MiB', Math.max(...rss));
    for (const migration of applied) rec.measured(`migrate.${migration.name}`, `  ${migration.name}`, 'ms', migration.durationMs);
    await db.query('vacuum (analyze)');
    await benchAuditAt(ctx, db, 'audit-target', 'target');
  } finally {
    await dropUnlessKept(ctx, db);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
