// Down migrations put every moved value back: the legacy fixture, migrated up to the last
// reversible migration and down again, is the legacy database it was (schema and rows), but
// for the access rows granted to site owners, which are valid in both shapes and kept.
import { beforeAll, expect, it } from 'vitest';
import { migrateDown, migrateLatest } from '../../src/db/migrator.js';
import { legacyShapeDifferences } from '../../src/db/adopt.js';
import { inspectSchema } from '../../src/schema/inspect.js';
import { LEGACY_TABLES } from '../../src/schema/legacy.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, TEST_SECRET_KEY } from '../helpers/legacy-fixture.js';
import { schemaSnapshot, tableRows, type SchemaSnapshot } from '../helpers/schema-snapshot.js';

const env = { IGNY8_SECRET_KEY: TEST_SECRET_KEY };

describeEachDatabase('down migrations', (fx) => {
  let legacySchema: SchemaSnapshot;
  const legacyRows: Record<string, unknown[]> = {};

  beforeAll(async () => {
    await createLegacySchema(fx.db);
    await insertLegacyFixture(fx.db.knex);
    legacySchema = await schemaSnapshot(fx.db.knex);
    for (const table of LEGACY_TABLES) legacyRows[table] = await tableRows(fx.db.knex, table);
  });

  it('revert every reversible migration back to the legacy schema, every value where it was', async () => {
    const up = await migrateLatest(fx.db, { env, to: '0018_ledger_immutable' });
    expect(up.error).toBeUndefined();
    const down = await migrateDown(fx.db, { env, to: '0001_legacy_baseline' });
    expect(down.error).toBeUndefined();
    expect(down.results.map((r) => r.status)).toEqual(Array(18).fill('reverted'));
    expect(legacyShapeDifferences(await inspectSchema(fx.db.knex))).toEqual([]);
    expect(await schemaSnapshot(fx.db.knex)).toEqual(legacySchema);
    for (const table of LEGACY_TABLES) {
      const rows = await tableRows(fx.db.knex, table);
      if (table === 'igny8_site_user_access') {
        expect(rows.slice(0, legacyRows[table].length)).toEqual(legacyRows[table]);
        expect(rows).toHaveLength(legacyRows[table].length + 4);
      } else {
        expect(rows, table).toEqual(legacyRows[table]);
      }
    }
  });

  it('migrate up again after the round trip', async () => {
    const up = await migrateLatest(fx.db, { env });
    expect(up.error).toBeUndefined();
  });
});
