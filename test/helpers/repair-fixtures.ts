// Shared by the repair tests: a legacy database seeded with repairable defects, the options
// every in-process repair run needs, and the count the audit reports for one check.
import type { Knex } from 'knex';
import { runAudit } from '../../src/audit/run.js';
import { findRule } from '../../src/rules/registry.js';
import type { Database } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/db/migrator.js';
import type { RunOptions } from '../../src/repairs/run.js';
import { seedLegacy, type SeedResult } from '../../src/seed/legacy.js';

export const TEST_KEY = '5e'.repeat(32);
export const TEST_ENV: NodeJS.ProcessEnv = { IGNY8_SECRET_KEY: TEST_KEY };

export function repairOptions(db: Database, extra: Partial<RunOptions> = {}): RunOptions {
  return { kind: db.kind, dataDir: db.dataDir, env: TEST_ENV, sample: 3, ...extra };
}

/** Seeds the legacy shape with every repairable defect, then migrates up to the first gate. */
export async function seedAndMigrateToGate(
  db: Database,
  options: { accounts?: number; seed?: number; defects?: string[] } = {},
): Promise<SeedResult> {
  const seeded = await seedLegacy(db, {
    accounts: options.accounts ?? 120,
    defectRate: 0.4,
    seed: options.seed ?? 7,
    defects: options.defects ?? ['repairable'],
  });
  await migrateLatest(db, { env: TEST_ENV });
  return seeded;
}

/** The count `igny8 audit` reports for one check (-1 when it did not run). */
export async function checkCount(knex: Knex, id: string): Promise<number> {
  const check = findRule(id);
  if (!check) throw new Error(`no check ${id}`);
  const report = await runAudit(knex, { checks: [check], sample: 0 });
  const result = report.checks[0];
  return result.status === 'findings' || result.status === 'ok' ? result.count : -1;
}
