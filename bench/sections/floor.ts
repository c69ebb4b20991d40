// The floor: how long the server needs to read, once, every table the audit reads. Each
// table is read in full with `select count(c1), count(c2), ... from t` (every column
// deformed, so a wide JSON column costs what it costs the checks), through one connection,
// with the server's own parallel-worker settings, after one unmeasured warm-up pass. The
// tables are those whose scan counters moved during an audit run (pg_stat_user_tables), so
// the floor follows the checks as they change. `count(*)` alone is recorded beside it.
// The passes run with the server's settings and again with JIT off; the floor is the faster
// of the two (JIT compilation can cost more than a short scan saves, and the floor is the
// least time the server needs).
import pg from 'pg';
import type { BenchDatabase } from '../postgres.js';
import { median } from '../result.js';

export interface FloorMeasurement {
  tables: string[];
  /** Total of one full pass over every table, per measured pass. */
  passesMs: number[];
  /** Median per table. */
  perTableMs: Record<string, number>;
  /** Total of one `count(*)` pass per measured pass (the cheapest possible read). */
  countStarPassesMs: number[];
  /** Which setting gave the floor, and both medians. */
  jit: { chosen: 'server setting' | 'off'; serverSettingMs: number; offMs: number };
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export async function measureFloor(db: BenchDatabase, tables: string[], runs: number): Promise<FloorMeasurement> {
  const columns = await db.query<{ table: string; column: string }>(
    `select c.relname as "table", a.attname as "column"
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = any($1) and a.attnum > 0 and not a.attisdropped
      order by c.relname, a.attnum`,
    [tables],
  );
  const byTable = new Map<string, string[]>();
  for (const { table, column } of columns) byTable.set(table, [...(byTable.get(table) ?? []), column]);
  const fullRead = new Map(
    [...byTable].map(([table, cols]) => [table, `select ${cols.map((c) => `count(${quote(c)})`).join(', ')} from ${quote(table)}`]),
  );
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const time = async (sql: string): Promise<number> => {
      const started = performance.now();
      await client.query(sql);
      return performance.now() - started;
    };
    const pass = async (statements: Map<string, string>, perTable?: Map<string, number[]>): Promise<number> => {
      let total = 0;
      for (const [table, sql] of statements) {
        const ms = await time(sql);
        perTable?.set(table, [...(perTable.get(table) ?? []), ms]);
        total += ms;
      }
      return total;
    };
    const countStar = new Map([...byTable.keys()].map((table) => [table, `select count(*) from ${quote(table)}`]));
    const measure = async () => {
      await pass(fullRead);
      const perTable = new Map<string, number[]>();
      const passesMs: number[] = [];
      const countStarPassesMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        passesMs.push(await pass(fullRead, perTable));
        countStarPassesMs.push(await pass(countStar));
      }
      return { perTable, passesMs, countStarPassesMs };
    };
    const asConfigured = await measure();
    await client.query('set jit = off');
    const jitOff = await measure();
    const serverSettingMs = median(asConfigured.passesMs);
    const offMs = median(jitOff.passesMs);
    const best = offMs < serverSettingMs ? jitOff : asConfigured;
    return {
      tables: [...byTable.keys()],
      passesMs: best.passesMs,
      perTableMs: Object.fromEntries([...best.perTable].map(([table, ms]) => [table, Math.round(median(ms) * 10) / 10])),
      countStarPassesMs: best.countStarPassesMs,
      jit: { chosen: best === jitOff ? 'off' : 'server setting', serverSettingMs, offMs },
    };
  } finally {
    await client.end();
  }
}
