// Migrations wired to the checks, one defect kind at a time: on a legacy database carrying
// only that kind, `migrate` either stops at the migration that needs it repaired, naming
// exactly that check's repair (and changing nothing there), or carries it through; after
// `repair <id> --yes` the migration completes and the check is at zero.
import { expect, it } from 'vitest';
import { migrateLatest, migrationStatus } from '../../src/db/migrator.js';
import { runRepairs } from '../../src/repairs/run.js';
import { plural } from '../../src/render/text.js';
import { seedLegacy } from '../../src/seed/legacy.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { checkCount, repairOptions, TEST_ENV } from '../helpers/repair-fixtures.js';

/** Which migration each kind blocks (absent: the migrations carry it, or it is a later drift). */
const GATES: Record<string, string | undefined> = {
  'orphan-users': '0008_users_account_not_null',
  'account-without-owner': '0009_owner_into_roles',
  'multiple-owners': '0009_owner_into_roles',
  'site-industry-null': '0011_sites_industry_not_null',
  'payment-method-drift': '0013_payment_methods_consolidate',
};

/** Kinds a migration resolves itself, and what its note says about them. */
const RESOLVED_BY: Record<string, { migration: string; note: (planted: number) => string }> = {
  'owner-role-mismatch': {
    migration: '0009_owner_into_roles',
    note: (planted) => `owner-role-mismatch resolved for ${plural(planted, 'account')}`,
  },
};

// The gated kinds, and three the migrations carry themselves (the others are covered by the
// journey and the per-repair tests; each case here builds a database of its own).
const KINDS = [...Object.keys(GATES), ...Object.keys(RESOLVED_BY), 'plaintext-credentials', 'invoice-billing-snapshot-missing'];

// Each kind gets a legacy database of its own: the seed refuses a database that is not empty.
for (const id of KINDS) {
  describeEachDatabase(`migrations gated by the checks: ${id}`, (fixture) => {
    it(`migrate ${GATES[id] ? `stops at ${GATES[id]} naming \`igny8 repair ${id}\`` : 'goes through'}; after the repair it completes and the check is at zero`, async () => {
      const { db } = fixture;
      const seeded = await seedLegacy(db, { accounts: 40, defectRate: 0.3, seed: 21, defects: [id] });
      expect(seeded.planted[id]).toBeGreaterThan(0);
      const first = await migrateLatest(db, { env: TEST_ENV });
      const gate = GATES[id];
      if (gate) {
        const failed = first.results.find((result) => result.status === 'failed');
        expect(failed?.name).toBe(gate);
        expect(first.error?.exitCode).toBe(3);
        const text = [first.error!.message, ...first.error!.details].join('\n');
        expect(text).toContain(`(check ${id})`);
        expect(text).toContain(`igny8 repair ${id}`);
        expect(text).toContain('nothing was changed by this migration');
        expect((await migrationStatus(db)).find((row) => row.name === gate)?.state).toBe('pending');
        expect(await checkCount(db.knex, id)).toBe(seeded.planted[id]);
      } else {
        expect(first.error).toBeUndefined();
        const resolved = RESOLVED_BY[id];
        if (resolved) {
          const notes = first.results.find((result) => result.name === resolved.migration)?.notes ?? [];
          expect(notes.join('\n')).toContain(resolved.note(seeded.planted[id]));
        }
      }
      const repaired = await runRepairs(db, [id], { ...repairOptions(db), apply: true });
      expect(repaired.failed).toBeUndefined();
      const second = await migrateLatest(db, { env: TEST_ENV });
      expect(second.error).toBeUndefined();
      expect((await migrationStatus(db)).every((row) => row.state === 'applied')).toBe(true);
      const after = await checkCount(db.knex, id);
      expect(after === 0 || after === -1).toBe(true);
    });
  });
}
