// The ops journey at size, on throwaway databases:
//  1. `seed legacy` with every defect kind → the seed figure, then the audit against its floor;
//  2. a second seed with only repairable defects (the others block migrations until a person
//     decides) → `repair --all --yes`, the whole migration chain (`igny8 migrate`), and the
//     audit again on the target shape.
import { notAvailable, type BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8, type ChildRun } from '../process.js';
import { TARGETS } from '../result.js';
import { benchAuditAt } from './audit.js';
import { seedLegacy } from './seed.js';

async function dropUnlessKept(ctx: BenchContext, db: BenchDatabase): Promise<void> {
  if (ctx.options.keep) ctx.log(`kept database ${db.name}`);
  else await db.drop();
}

export async function benchLegacy(ctx: BenchContext, sections: { seed: boolean; audit: boolean; journey: boolean }): Promise<void> {
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
  if (sections.seed || sections.audit) {
    const outcome = await seedLegacy(ctx, 'legacy');
    if (!outcome.ok) {
      rec.missing('seed', 'seed legacy', 's', 'failed', outcome.error, TARGETS.seed);
    } else {
      const { seeded } = outcome;
      rec.measured('seed', `seed legacy --accounts ${ctx.options.accounts}`, 's', seeded.seedMs / 1000, { target: TARGETS.seed });
      if (seeded.seedRssMb !== undefined) rec.measured('seed.rss', 'peak RSS of igny8 seed legacy', 'MiB', seeded.seedRssMb);
      rec.detail('seed', { database: seeded.db.name, vacuumAnalyzeMs: Math.round(seeded.vacuumMs), rows: seeded.rows, bytes: seeded.bytes, report: seeded.report });
      try {
        if (sections.audit) await benchAuditAt(ctx, seeded.db, 'audit', 'legacy');
      } finally {
        await dropUnlessKept(ctx, seeded.db);
      }
    }
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
