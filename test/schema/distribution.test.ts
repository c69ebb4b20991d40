// The migrated schema stays ready to be distributed by account (docs/scaling.md): a migration
// that adds a tenant table without account_id, a reference between tenant rows without it, or
// a unique key that a distributed table cannot enforce (and that the document does not answer
// for) fails here. The tenant tables are derived from the schema, never listed in this test.
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { beforeAll, expect, it } from 'vitest';
import { journaledTables } from '../../src/audit/journal.js';
import { readTenancy, REFERENCE_TABLES, type Tenancy } from '../../src/schema/tenancy.js';
import { describeEachDatabase } from '../helpers/databases.js';

const SCALING = new URL('../../docs/scaling.md', import.meta.url);

/** The keys docs/scaling.md answers for: the first cell of each row of "Unique keys without account_id". */
function answeredKeys(): Map<string, string> {
  const text = readFileSync(SCALING, 'utf8');
  const section = /^## Unique keys without account_id\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text)?.[1];
  if (!section) throw new Error('docs/scaling.md has no "## Unique keys without account_id" section');
  const keys = new Map<string, string>();
  for (const line of section.split('\n')) {
    const row = /^\|\s*`([a-z0-9_]+)`\s*\|[^|]*\|\s*(.+?)\s*\|\s*$/.exec(line);
    if (row) keys.set(row[1]!, row[2]!);
  }
  return keys;
}

interface UniqueKey {
  table: string;
  name: string;
  /** Plain columns in key order; an expression is null. */
  columns: Array<string | null>;
}

async function uniqueKeys(knex: Knex): Promise<UniqueKey[]> {
  const result = await knex.raw(
    `select c.relname as "table", i.relname as name,
            array(select a.attname from unnest(x.indkey) with ordinality k(attnum, n)
                    left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum and k.attnum > 0
                   order by k.n) as columns
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and x.indisunique
      order by 1, 2`,
  );
  return (result.rows as Array<{ table: string; name: string; columns: Array<string | null> | string }>).map((row) => ({
    ...row,
    columns: typeof row.columns === 'string' ? row.columns.replace(/^\{|\}$/g, '').split(',').map((c) => (c === 'NULL' ? null : c)) : row.columns,
  }));
}

interface ForeignKey {
  name: string;
  table: string;
  columns: string[];
  referenced: string;
  referencedColumns: string[];
}

async function foreignKeys(knex: Knex): Promise<ForeignKey[]> {
  const result = await knex.raw(
    `select c.conname as name, c.conrelid::regclass::text as "table", c.confrelid::regclass::text as referenced,
            array(select a.attname from unnest(c.conkey) with ordinality k(attnum, n)
                    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.n)::text[] as columns,
            array(select a.attname from unnest(c.confkey) with ordinality k(attnum, n)
                    join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.n)::text[] as "referencedColumns"
       from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where c.contype = 'f' and n.nspname = current_schema()
      order by 1`,
  );
  const list = (value: string[] | string) => (typeof value === 'string' ? value.replace(/^\{|\}$/g, '').split(',') : value);
  return (result.rows as Array<ForeignKey & { columns: string[] | string; referencedColumns: string[] | string }>).map((row) => ({
    ...row,
    columns: list(row.columns),
    referencedColumns: list(row.referencedColumns),
  }));
}

describeEachDatabase(
  'distribution-readiness of the migrated schema (docs/scaling.md)',
  (fx) => {
    let tenancy: Tenancy;
    const accountColumn = (table: string) => tenancy.tenant.find((t) => t.table === table)?.accountColumn;

    beforeAll(async () => {
      tenancy = await readTenancy(fx.db.knex);
    });

    it('finds the tenant tables the document names, and the reference tables', () => {
      const tables = tenancy.tenant.map((t) => t.table);
      for (const table of ['igny8_accounts', 'igny8_users', 'igny8_sites', 'igny8_sectors', 'igny8_credit_transactions', 'igny8_invoices']) {
        expect(tables).toContain(table);
      }
      expect(tenancy.reference).toEqual([...REFERENCE_TABLES]);
    });

    it('every tenant table has account_id not null (the accounts table: its id)', async () => {
      for (const { table, accountColumn: column } of tenancy.tenant) {
        expect(column, `${table} has no account_id: it cannot be distributed`).not.toBeNull();
        const result = await fx.db.knex.raw(
          `select a.attnotnull as not_null from pg_attribute a where a.attrelid = to_regclass(?) and a.attname = ?`,
          [table, column],
        );
        expect(result.rows[0]?.not_null, `${table}.${column} must be not null`).toBe(true);
      }
    });

    it('every foreign key between tenant tables pairs account_id with account_id', async () => {
      for (const key of await foreignKeys(fx.db.knex)) {
        const from = accountColumn(key.table);
        const to = accountColumn(key.referenced);
        if (!from || !to) continue;
        const at = key.columns.indexOf(from);
        expect(at, `${key.name} (${key.table} → ${key.referenced}) must include ${from}`).toBeGreaterThanOrEqual(0);
        expect(key.referencedColumns[at], `${key.name} must pair ${from} with ${key.referenced}.${to}`).toBe(to);
      }
    });

    it('no reference table points at a tenant table', async () => {
      for (const key of await foreignKeys(fx.db.knex)) {
        if (tenancy.reference.includes(key.table)) expect(accountColumn(key.referenced), `${key.name}`).toBeUndefined();
      }
    });

    it('every unique key of a tenant table includes account_id or is answered in docs/scaling.md, and every answer is of a real key', async () => {
      const answered = answeredKeys();
      expect(answered.size).toBeGreaterThan(0);
      const seen = new Set<string>();
      for (const key of await uniqueKeys(fx.db.knex)) {
        const column = accountColumn(key.table);
        if (!column) continue;
        if (key.columns.includes(column)) continue;
        seen.add(key.name);
        expect(answered.has(key.name), `unique key ${key.name} on ${key.table} lacks ${column}: add it to docs/scaling.md with its distributed answer`).toBe(true);
      }
      for (const name of answered.keys()) {
        expect(seen.has(name), `docs/scaling.md answers for ${name}, which is not a unique key without account_id`).toBe(true);
      }
    });

    it('every tenant and reference table carries the change journal', async () => {
      const watched = await journaledTables(fx.db.knex);
      for (const { table } of tenancy.tenant) expect(watched, `${table} is not journaled`).toContain(table);
      for (const table of tenancy.reference) expect(watched, `${table} is not journaled`).toContain(table);
    });
  },
  { migrated: true },
);
