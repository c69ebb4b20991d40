// A migrated, catalog-synced database in a second instead of ten: the first test file to
// ask builds a template (a PGlite dump in the temp directory, a template database on the
// server), keyed by the migrations' and catalog's content; later ones copy it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { beforeAll } from 'vitest';
import { connect, type Database, type DatabaseKind } from '../../src/db/connect.js';
import { listMigrationFiles } from '../../src/db/migrations.js';
import {
  openEmbeddedTestDatabase,
  openServerTestDatabase,
  prepareDatabase,
  SERVER_URL,
  serverUrlFor,
  type TestDatabase,
} from './databases.js';

function templateKey(): string {
  const hash = createHash('sha256');
  for (const file of listMigrationFiles()) hash.update(`${file.name}:${file.checksum}\n`);
  hash.update(readFileSync(new URL('../../fixtures/catalog.json', import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}

async function pgliteTemplate(key: string): Promise<Blob> {
  const file = path.join(tmpdir(), `igny8-template-${key}.tar`);
  if (!existsSync(file)) {
    const db = await connect({ memory: true });
    try {
      await prepareDatabase(db, 'target');
      const pglite = (db.knex.client as unknown as { pglite: PGlite }).pglite;
      const dump = await pglite.dumpDataDir('none');
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, file); // atomic: a concurrent reader sees all or nothing
    } finally {
      await db.close();
    }
  }
  return new Blob([readFileSync(file)]);
}

async function serverTemplate(client: pg.Client, key: string): Promise<string> {
  const name = `igny8_tpl_${key}`;
  const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
  if (exists.rowCount) return name;
  const building = `${name}_build_${randomBytes(3).toString('hex')}`;
  await client.query(`create database ${building}`);
  const db = await connect({ databaseUrl: serverUrlFor(building), poolMax: 2 });
  try {
    await prepareDatabase(db, 'target');
  } finally {
    await db.close();
  }
  await client.query(`alter database ${building} rename to ${name}`);
  // Templates of older migrations are of no further use.
  const stale = await client.query(
    `select datname from pg_database where datname like 'igny8\\_tpl\\_%' and datname <> $1`,
    [name],
  );
  for (const row of stale.rows as Array<{ datname: string }>) {
    await client.query(`drop database if exists ${row.datname} with (force)`);
  }
  return name;
}

/** A new database with every migration applied and the catalog synced. */
export async function createMigratedDatabase(
  kind: DatabaseKind,
  options: { onDisk?: boolean } = {},
): Promise<TestDatabase> {
  const key = templateKey();
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    const name = `igny8_test_${randomBytes(6).toString('hex')}`;
    try {
      await admin.query(`select pg_advisory_lock(hashtext('igny8.test-template'))`);
      const template = await serverTemplate(admin, key);
      await admin.query(`create database ${name} template ${template}`);
    } finally {
      await admin.end(); // ends the session, releasing the lock
    }
    return openServerTestDatabase(name);
  }
  return openEmbeddedTestDatabase({ onDisk: options.onDisk, loadDataDir: await pgliteTemplate(key) });
}

/**
 * For concurrency tests on the server: a migrated database and a pool of `poolMax` connections
 * to it, opened before the suite's tests and dropped after them.
 */
export function migratedServerPool(poolMax: number): { readonly db: Database } {
  let t: TestDatabase | undefined;
  let db: Database | undefined;
  beforeAll(async () => {
    t = await createMigratedDatabase('postgres');
    await t.db.close();
    db = await connect({ databaseUrl: t.url, poolMax });
    return async () => {
      await db?.close();
      await t?.drop().catch(() => undefined);
    };
  });
  return {
    get db() {
      if (!db) throw new Error('migratedServerPool: used before its beforeAll ran');
      return db;
    },
  };
}
