// repair undo where production's repairs will run: a legacy database seeded with the
// repairable defects and migrated up to its first gate, repaired in one run, then undone; every check counts what it counted
// before the repair, and the ledger only grew.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run.js';
import { runRepairs } from '../../src/repairs/run.js';
import { undoRepairRun } from '../../src/repairs/undo.js';
import { REPAIRABLE_IDS } from '../../src/rules/registry.js';
import { DomainRefusal } from '../../src/errors.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { repairOptions, seedAndMigrateToGate } from '../helpers/repair-fixtures.js';
import { all } from '../helpers/sql.js';

/** Repairs that create accounts or write secrets: their runs cannot be undone. */
const NOT_UNDOABLE = ['orphan-users', 'plaintext-credentials'];

describeEachDatabase('repair undo on a legacy database at its first gate', (fx) => {
  it('a run of every undoable repair is undone: each check back to its count, the ledger only corrected', async () => {
    const { db } = fx;
    await seedAndMigrateToGate(db, { accounts: 60, seed: 11 });
    const counts = async () =>
      Object.fromEntries((await runAudit(db.knex, { sample: 0 })).checks.map((check) => [check.id, check.count]));
    const before = await counts();
    const ledgerBefore = await all<{ n: number }>(db.knex, `select count(*)::int as n from igny8_credit_transactions`);

    const runId = randomUUID();
    const ids = REPAIRABLE_IDS.filter((id) => !NOT_UNDOABLE.includes(id));
    const report = await runRepairs(db, ids, { ...repairOptions(db), apply: true, runId });
    expect(report.failed).toBeUndefined();
    const repaired = await counts();
    const fixed = ids.filter((id) => before[id] > 0 && repaired[id] < before[id]);
    expect(fixed.length).toBeGreaterThanOrEqual(5);

    const undo = await undoRepairRun(db, { runId });
    expect(await counts()).toEqual(before);
    const ledgerAfter = await all<{ n: number }>(db.knex, `select count(*)::int as n from igny8_credit_transactions`);
    expect(ledgerAfter[0].n).toBe(ledgerBefore[0].n + 2 * undo.ledgerCorrections);

    // A run of the repairs that cannot be undone is refused, and says why.
    const orphans = randomUUID();
    const second = await runRepairs(db, ['orphan-users'], { ...repairOptions(db), apply: true, runId: orphans });
    expect(second.failed).toBeUndefined();
    const created = await all<{ n: number }>(
      db.knex,
      `select count(*)::int as n from igny8_repair_log where run_id = ? and table_name in ('igny8_tenants', 'igny8_accounts') and before is null`,
      [orphans],
    );
    expect(created[0].n).toBeGreaterThan(0); // the seed plants orphans no account names
    const refused = undoRepairRun(db, { runId: orphans });
    await expect(refused).rejects.toThrow(DomainRefusal);
    await expect(refused).rejects.toThrow(/it created \d+ accounts?/);
  }, 120_000);
});
