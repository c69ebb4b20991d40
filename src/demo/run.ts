// The whole journey on a throwaway embedded database: legacy data with every repairable
// defect planted, an audit that finds them, a migration that refuses until they are fixed,
// the repairs, the migration again, and a clean audit. Each step reports what it did in a
// few lines; the caller decides how they look. The database lives in a directory of its
// own and never touches the user's database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAudit, type AuditReport } from '../audit/run.js';
import { connect, type Database } from '../db/connect.js';
import { migrateLatest, type RunReport } from '../db/migrator.js';
import { DomainRefusal } from '../errors.js';
import { runRepairs, type RepairRunReport } from '../repairs/run.js';
import { REPAIRABLE_IDS } from '../rules/registry.js';
import { seedLegacy } from '../seed/legacy.js';
import { plural } from '../render/text.js';

const DEMO_DEFAULT_INDUSTRY = 'technology';

export interface DemoOptions {
  accounts: number;
  defectRate: number;
  seed: number;
  /** Keep the demo's directory afterwards (its path is reported). */
  keep: boolean;
  /** The environment, minus anything that would point igny8 at another database or key. */
  env: NodeJS.ProcessEnv;
  onStep(step: DemoStep): void;
}

export interface DemoStep {
  number: number;
  title: string;
  /** Why the step matters, in one line. */
  why: string;
  /** What the step did, in a few lines. */
  lines: string[];
}

export interface DemoReport {
  directory: string;
  kept: boolean;
  finalAuditExitCode: number;
  durationMs: number;
  steps: DemoStep[];
}

function findingsLine(report: AuditReport): string[] {
  const found = report.checks.filter((check) => check.status === 'findings');
  if (found.length === 0) return ['no findings'];
  return found.map((check) => `${check.id.padEnd(34)} ${String(check.count).padStart(5)}  ${check.severity}`);
}

function statusCounts(report: AuditReport): string {
  const t = report.totals;
  return `${plural(t.checks, 'check')}: ${t.withFindings} with findings (${plural(t.errorRows, 'error row')}, ${plural(t.warningRows, 'warning row')}), ${t.ok} clean, ${t.enforced} enforced by the schema, ${t.notApplicable} not applicable`;
}

function migrationLines(run: RunReport): string[] {
  const applied = run.results.filter((result) => result.status === 'applied').map((result) => result.name);
  const lines = [applied.length > 0 ? `applied ${applied.length}: ${applied[0]} … ${applied[applied.length - 1]}` : 'applied none'];
  const failed = run.results.find((result) => result.status === 'failed');
  if (failed && run.error) {
    lines.push(`stopped at ${failed.name}, which changed nothing:`, `  ${run.error.message}`);
    lines.push(...run.error.details.map((line) => `  ${line}`));
  }
  return lines;
}

function repairLines(report: RepairRunReport): string[] {
  const lines = report.items
    .filter(({ outcome }) => outcome && outcome.repaired > 0)
    .map(({ plan, outcome }) => {
      const written = Object.values(outcome!.written).reduce((sum, count) => sum + count, 0);
      return `${plan.checkId.padEnd(34)} ${String(outcome!.repaired).padStart(5)} repaired, ${plural(written, 'row')} written`;
    });
  lines.push(`every written row is in igny8_repair_log (run ${report.runId}), before and after`);
  return lines;
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = performance.now();
  const directory = mkdtempSync(path.join(tmpdir(), 'igny8-demo-'));
  const steps: DemoStep[] = [];
  const step = (title: string, why: string, lines: string[]) => {
    const made = { number: steps.length + 1, title, why, lines };
    steps.push(made);
    options.onStep(made);
  };
  // The demo's own key: a key file next to its database, never the user's IGNY8_SECRET_KEY.
  const { IGNY8_SECRET_KEY: _key, DATABASE_URL: _url, IGNY8_DATA_DIR: _dir, ...env } = options.env;
  let db: Database | undefined;
  try {
    db = await connect({ dataDir: path.join(directory, 'db') });
    const seeded = await seedLegacy(db, {
      accounts: options.accounts,
      defectRate: options.defectRate,
      seed: options.seed,
      defects: ['repairable'],
    });
    const planted = Object.values(seeded.planted).reduce((sum, count) => sum + count, 0);
    step('seed a legacy database', 'what production looks like today: the old code wrote these rows, defects included', [
      `a database in the old Django shape: ${plural(seeded.accounts, 'account')}, ${plural(seeded.rows.igny8_users ?? 0, 'user')}, ${plural(seeded.rows.igny8_sites ?? 0, 'site')}, ${plural(seeded.rows.igny8_invoices ?? 0, 'invoice')}`,
      `with ${planted} planted defects of ${Object.values(seeded.planted).filter((count) => count > 0).length} kinds (the ones production has)`,
    ]);

    const before = await runAudit(db.knex, { sample: 0 });
    step('audit: what is wrong', 'every check is one set-based query; its exit code is what gates a deploy in CI', [
      statusCounts(before),
      ...findingsLine(before),
      `exit code ${before.exitCode}: CI would stop here`,
    ]);

    const blocked = await migrateLatest(db, { env });
    step(
      'migrate: refuses to build on bad data',
      'a migration that adds a constraint counts the rows that would break it first, and stops with the repair to run',
      [
        ...migrationLines(blocked),
        'the migrations before it (repair log, renames) are applied; the blocked one is not',
      ],
    );
    if (!blocked.error) throw new DomainRefusal('demo: the legacy data was expected to block a migration');

    const plan = await runRepairs(db, REPAIRABLE_IDS, { apply: false, kind: db.kind, dataDir: db.dataDir, env, sample: 0 });
    const repairable = plan.items.reduce((sum, item) => sum + item.plan.keys.length, 0);
    const left = plan.items.filter((item) => item.plan.leftOver);
    // Sites whose sectors imply no single industry need a person's choice; the demo makes it.
    const undecided = left.find((item) => item.plan.checkId === 'site-industry-null')?.plan.leftOver;
    const repaired = await runRepairs(db, REPAIRABLE_IDS, {
      apply: true,
      kind: db.kind,
      dataDir: db.dataDir,
      env,
      sample: 0,
      ...(undecided ? { defaultIndustry: DEMO_DEFAULT_INDUSTRY } : {}),
    });
    if (repaired.failed) throw repaired.failed.error;
    step(
      `repair --all --yes${undecided ? ` --default-industry ${DEMO_DEFAULT_INDUSTRY}` : ''}: fix what can be fixed safely`,
      'each repair locks its rows, recounts them (refusing if they changed), writes, and logs every row before and after',
      [
        `plan first (\`igny8 repair --all\`): ${plural(repairable, 'row')}; then each repair in its own transactions`,
        ...(undecided
          ? [`${plural(undecided.count, 'site')} with sectors implying no single industry: the demo names one (${DEMO_DEFAULT_INDUSTRY}); never a silent default`]
          : []),
        ...repairLines(repaired),
      ],
    );

    const migrated = await migrateLatest(db, { env });
    if (migrated.error) throw migrated.error;
    step('migrate again: the target schema', 'with the data clean, every remaining migration applies, one transaction each', [
      ...migrationLines(migrated),
      'constraints now guarantee what the repairs fixed (NOT NULL, unique indexes, composite keys)',
    ]);

    const after = await runAudit(db.knex, { sample: 0 });
    step('audit again: clean', 'what the repairs fixed, the schema now guarantees; CI would pass', [statusCounts(after), ...findingsLine(after).filter(() => after.totals.rows > 0), `exit code ${after.exitCode}`]);
    return {
      directory,
      kept: options.keep,
      finalAuditExitCode: after.exitCode,
      durationMs: Math.round(performance.now() - started),
      steps,
    };
  } finally {
    await db?.close();
    if (!options.keep) rmSync(directory, { recursive: true, force: true });
  }
}
