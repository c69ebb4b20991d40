// The ops journey at size, on throwaway databases:
//  1. `seed legacy` with every defect kind → the seed figure, then the audit against its floor;
//  2. a second seed with only repairable defects (the others block migrations until a person
//     decides) → `repair --all --yes`, the whole migration chain (`igny8 migrate`), and the
//     audit again on the target shape.
import { notAvailable, type BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8 } from '../process.js';
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

async function benchJourney(ctx: BenchContext): Promise<void> {
  const { rec } = ctx;
  const canRepair = await ctx.has(['repair']);
  const help = await seedHelp();
  // Without repairs, the chain is timed on a seed without defects (nothing for a gate to refuse).
  let seedArgs: string[];
  let seedNote: string;
  if (canRepair && /--defects\b/.test(help)) {
    seedArgs = ['--defects', 'repairable'];
    seedNote = 'seeded with --defects repairable';
  } else if (!canRepair && /--defect-rate\b/.test(help)) {
    seedArgs = ['--defect-rate', '0'];
    seedNote = 'seeded with --defect-rate 0 (repair not available yet)';
  } else {
    seedArgs = [];
    seedNote = 'seeded with every defect kind';
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
  try {
    if (canRepair) {
      const [industry] = await db.query<{ slug: string }>('select slug from igny8_industries where is_active order by id limit 1');
      const args = ['--json', 'repair', '--all', '--yes', ...(industry ? ['--default-industry', industry.slug] : [])];
      ctx.log(`igny8 ${args.join(' ')}`);
      const repair = await runIgny8(args, { env, memory: true });
      if (repair.code !== 0) {
        rec.missing('repair', 'repair --all --yes', 's', 'failed', failureText(repair));
      } else {
        rec.measured('repair', `repair --all --yes (${seedNote})`, 's', repair.ms / 1000);
        if (repair.peakRssMb !== undefined) rec.measured('repair.rss', 'peak RSS of igny8 repair', 'MiB', repair.peakRssMb, { target: TARGETS.repairRss });
        rec.detail('repair', { database: db.name, report: parseJson(repair.stdout) });
      }
    } else {
      rec.missing('repair', 'repair --all --yes', 's', 'not-available', notAvailable('repair'));
    }
    ctx.log('igny8 migrate (the whole chain)');
    const migrate = await runIgny8(['--json', 'migrate'], { env, memory: true });
    const report = parseJson(migrate.stdout) as { results?: Array<{ name: string; status: string; durationMs: number }> } | undefined;
    const results = report?.results ?? [];
    rec.detail('migrate', { database: db.name, results: results.map(({ name, status, durationMs }) => ({ name, status, durationMs })) });
    if (migrate.code !== 0) {
      rec.missing('migrate', 'migration chain (igny8 migrate)', 's', 'failed', failureText(migrate), TARGETS.migrate);
      return;
    }
    const applied = results.filter((result) => result.status === 'applied');
    rec.measured('migrate', `migration chain, ${applied.length} migrations (igny8 migrate)`, 's', migrate.ms / 1000, { target: TARGETS.migrate });
    if (migrate.peakRssMb !== undefined) rec.measured('migrate.rss', 'peak RSS of igny8 migrate', 'MiB', migrate.peakRssMb);
    for (const result of applied) rec.measured(`migrate.${result.name}`, `  ${result.name}`, 'ms', result.durationMs);
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
