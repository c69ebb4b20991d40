// CLI start-up as a user feels it: `igny8 --help`, and `igny8 audit` on an empty embedded
// database. "Empty" = a fresh data directory on which `igny8 migrate` has run the whole
// chain and `igny8 catalog sync` has loaded plans and industries, as a new installation
// does before its first registration; no account exists. "Warm" = the
// OS file cache already holds node, the built code and the data directory: one unmeasured
// run goes first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { notAvailable, type BenchContext } from '../context.js';
import { failureText, runIgny8, runNodeScript } from '../process.js';
import { TARGETS } from '../result.js';

interface Timed {
  ms: number[];
  rssMb: number[];
  codes: number[];
  error?: string;
}

async function timesOf(runs: number, args: string[], env: Record<string, string> = {}, memory = false): Promise<Timed> {
  const warm = await runIgny8(args, { env });
  const timed: Timed = { ms: [], rssMb: [], codes: [warm.code] };
  for (let i = 0; i < runs; i++) {
    const run = await runIgny8(args, { env, memory });
    if (run.code !== 0 && run.code !== 1) return { ...timed, error: failureText(run) };
    timed.ms.push(run.ms);
    if (run.peakRssMb !== undefined) timed.rssMb.push(run.peakRssMb);
    timed.codes.push(run.code);
  }
  return timed;
}

export async function benchStartup(ctx: BenchContext): Promise<void> {
  const { rec, options } = ctx;
  ctx.log(`igny8 --help × ${options.runs}`);
  const help = await timesOf(options.runs, ['--help']);
  if (help.error) rec.missing('startup.help', 'igny8 --help', 'ms', 'failed', help.error, TARGETS.help);
  else rec.measured('startup.help', 'igny8 --help', 'ms', help.ms, { target: TARGETS.help });

  const label = 'igny8 audit, empty embedded database (warm)';
  if (!(await ctx.has(['audit']))) {
    rec.missing('startup.empty-audit', label, 'ms', 'not-available', notAvailable('audit'), TARGETS.emptyAudit);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-bench-empty-'));
  try {
    const env = { IGNY8_DATA_DIR: path.join(dir, 'db') };
    for (const args of [['migrate'], ['catalog', 'sync']]) {
      const prepared = await runIgny8(args, { env });
      if (prepared.code !== 0) {
        rec.missing('startup.empty-audit', label, 'ms', 'failed', `igny8 ${args.join(' ')} on the empty database: ${failureText(prepared)}`, TARGETS.emptyAudit);
        return;
      }
    }
    ctx.log(`igny8 audit on an empty embedded database × ${options.runs}`);
    const audit = await timesOf(options.runs, ['audit'], env, true);
    if (audit.error) {
      rec.missing('startup.empty-audit', label, 'ms', 'failed', audit.error, TARGETS.emptyAudit);
      return;
    }
    rec.measured('startup.empty-audit', label, 'ms', audit.ms, {
      target: TARGETS.emptyAudit,
      note: `fresh data dir after \`igny8 migrate\` and \`catalog sync\`, no accounts; exit code ${audit.codes[audit.codes.length - 1]}`,
    });
    // The embedded floor: a bare Node process that opens the same data directory with PGlite,
    // started as igny8 starts it, and runs one query. No igny8 command on the embedded
    // database can start faster.
    const floorScript = `import { newPglite } from './dist/db/embedded.js';
      const db = await newPglite(process.env.IGNY8_DATA_DIR);
      await db.query('select count(*) from igny8_plans');
      await db.close();`;
    const floorRuns: number[] = [];
    const floorRss: number[] = [];
    await runNodeScript(floorScript, { env });
    for (let i = 0; i < options.runs; i++) {
      const run = await runNodeScript(floorScript, { env, memory: true });
      if (run.code !== 0) {
        floorRuns.length = 0;
        rec.missing('startup.embedded-floor', '  floor: bare Node opens it as igny8 does, one query', 'ms', 'failed', failureText(run));
        break;
      }
      floorRuns.push(run.ms);
      if (run.peakRssMb !== undefined) floorRss.push(run.peakRssMb);
    }
    if (floorRuns.length > 0) {
      rec.measured('startup.embedded-floor', '  floor: bare Node opens it as igny8 does, one query', 'ms', floorRuns, {
        note: floorRss.length > 0 ? `peak RSS ${Math.round(Math.max(...floorRss))} MiB` : undefined,
      });
    }
    if (audit.rssMb.length > 0) {
      rec.measured('startup.empty-audit.rss', 'peak RSS of that audit (PGlite runs inside the process)', 'MiB', Math.max(...audit.rssMb), {
        target: TARGETS.auditRss,
        note: 'highest of the measured runs',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
