// `igny8 seed legacy` into a throwaway database, timed as the user runs it. Afterwards the
// bench runs VACUUM (ANALYZE) itself, timed apart and not counted in the seed figure: a
// production database has statistics and a visibility map, and without them autovacuum would
// wake up in the middle of the audit measurements.
import type { BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8 } from '../process.js';

export interface Seeded {
  db: BenchDatabase;
  seedMs: number;
  seedRssMb: number | undefined;
  vacuumMs: number;
  /** Rows per table after seeding. */
  rows: Record<string, number>;
  /** Bytes per table (heap + indexes + toast). */
  bytes: Record<string, number>;
  /** The seed's own JSON report, when it printed one. */
  report: unknown;
}

export type SeedOutcome = { ok: true; seeded: Seeded } | { ok: false; error: string };

export async function seedLegacy(ctx: BenchContext, purpose: string, extraArgs: string[] = []): Promise<SeedOutcome> {
  const db = await ctx.server.createDatabase(purpose);
  const args = ['--json', 'seed', 'legacy', '--accounts', String(ctx.options.accounts), '--seed', '1', ...extraArgs];
  ctx.log(`igny8 ${args.join(' ')} (database ${db.name})`);
  const run = await runIgny8(args, { env: { DATABASE_URL: db.url }, memory: true });
  if (run.code !== 0) return { ok: false, error: failureText(run) };
  let report: unknown;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    report = undefined;
  }
  ctx.log(`seeded in ${(run.ms / 1000).toFixed(1)} s; vacuum (analyze)`);
  const started = performance.now();
  await db.query('vacuum (analyze)');
  const vacuumMs = performance.now() - started;
  const stats = await db.tableStats();
  const rows: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  for (const [table, stat] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    rows[table] = stat.rows;
    bytes[table] = stat.bytes;
  }
  return { ok: true, seeded: { db, seedMs: run.ms, seedRssMb: run.peakRssMb, vacuumMs, rows, bytes, report } };
}
