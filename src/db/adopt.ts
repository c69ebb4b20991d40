// `igny8 migrate adopt`: an existing production database, created by the old Django code,
// is verified against the legacy shape and the baseline is recorded as applied, so the
// migration chain continues from it without recreating anything.
import type { Database } from './connect.js';
import { DomainRefusal } from '../errors.js';
import { LEGACY_COLUMNS, LEGACY_TABLES } from '../schema/legacy.js';
import { inspectSchema, type SchemaInfo } from '../schema/inspect.js';
import { withMigrationLock } from './lock.js';
import { listMigrationFiles } from './migrations.js';
import { ensureMigrationsTable, markApplied, MIGRATIONS_TABLE } from './migrator.js';

export const BASELINE_MIGRATION = '0001_legacy_baseline';

export interface AdoptResult {
  baseline: string;
  tables: number;
  /** Columns the database has beyond the legacy shape: kept, and listed for the record. */
  extraColumns: string[];
}

/** Every way the database differs from the legacy shape; empty when it matches. */
export function legacyShapeDifferences(schema: SchemaInfo): string[] {
  const differences: string[] = [];
  for (const table of LEGACY_TABLES) {
    if (!schema.hasTable(table)) differences.push(`missing table ${table}`);
  }
  for (const expected of LEGACY_COLUMNS) {
    if (!schema.hasTable(expected.table)) continue;
    const actual = schema.column(expected.table, expected.column);
    const name = `${expected.table}.${expected.column}`;
    if (!actual) {
      differences.push(`missing column ${name} (${expected.type})`);
      continue;
    }
    if (actual.type !== expected.type) {
      differences.push(`${name}: type is ${actual.type}, expected ${expected.type}`);
    }
    if (actual.nullable !== expected.nullable) {
      differences.push(
        `${name}: ${actual.nullable ? 'nullable' : 'not null'}, expected ${expected.nullable ? 'nullable' : 'not null'}`,
      );
    }
  }
  return differences;
}

function extraColumns(schema: SchemaInfo): string[] {
  const known = new Set(LEGACY_COLUMNS.map((column) => `${column.table}.${column.column}`));
  return LEGACY_TABLES.flatMap((table) => schema.columnsOf(table).map((column) => `${table}.${column}`)).filter(
    (name) => !known.has(name),
  );
}

export async function adoptLegacyDatabase(db: Database, migrationsDir?: string): Promise<AdoptResult> {
  const files = listMigrationFiles(migrationsDir);
  const baseline = files.find((file) => file.name === BASELINE_MIGRATION);
  if (!baseline) throw new Error(`the baseline migration ${BASELINE_MIGRATION} is missing`);
  return withMigrationLock(db, () =>
    db.knex.transaction(async (trx) => {
      const schema = await inspectSchema(trx);
      if (schema.hasTable(MIGRATIONS_TABLE)) {
        const applied = await trx(MIGRATIONS_TABLE).count<{ count: number }[]>({ count: '*' });
        if (Number(applied[0].count) > 0) {
          throw new DomainRefusal('this database is already managed by igny8 migrations; nothing to adopt', {
            details: ['run `igny8 migrate status` to see what is applied'],
          });
        }
      }
      const differences = legacyShapeDifferences(schema);
      if (differences.length > 0) {
        throw new DomainRefusal(
          `the database does not have the legacy shape (${differences.length} difference${differences.length === 1 ? '' : 's'}); nothing was recorded`,
          { details: differences },
        );
      }
      await ensureMigrationsTable(trx);
      await markApplied(trx, [baseline]);
      return { baseline: baseline.name, tables: LEGACY_TABLES.length, extraColumns: extraColumns(schema) };
    }),
  );
}
