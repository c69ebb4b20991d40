// The bench's own access to the server: throwaway databases (created and dropped here, no
// other database is ever touched), server facts, and table statistics.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export class Server {
  constructor(readonly url: string) {}

  async query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = [], database?: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: database ? this.urlFor(database) : this.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  urlFor(database: string): string {
    const url = new URL(this.url);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /** A new empty database with a name only the bench uses. */
  async createDatabase(purpose: string): Promise<BenchDatabase> {
    const name = `igny8_bench_${purpose}_${randomBytes(4).toString('hex')}`;
    await this.query(`create database ${name}`);
    created.add(name);
    return new BenchDatabase(this, name);
  }

  async dropDatabase(name: string): Promise<void> {
    if (!name.startsWith('igny8_bench_')) throw new Error(`refusing to drop ${name}: not a bench database`);
    await this.query(`drop database if exists ${name} with (force)`);
    created.delete(name);
  }

  async facts(): Promise<Record<string, string>> {
    const settings = [
      'server_version',
      'shared_buffers',
      'work_mem',
      'maintenance_work_mem',
      'effective_cache_size',
      'max_parallel_workers_per_gather',
      'max_parallel_workers',
      'max_worker_processes',
      'jit',
      'synchronous_commit',
      'fsync',
      'random_page_cost',
    ];
    const rows = await this.query<{ name: string; setting: string }>(
      `select name, current_setting(name) as setting from unnest($1::text[]) as name`,
      [settings],
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  }
}

/** Names of databases this process created and has not dropped yet (dropped on exit). */
export const created = new Set<string>();

export interface TableStats {
  table: string;
  seqScan: number;
  seqTupRead: number;
  idxScan: number;
  idxTupFetch: number;
  rows: number;
  bytes: number;
}

export class BenchDatabase {
  constructor(
    readonly server: Server,
    readonly name: string,
  ) {}

  get url(): string {
    return this.server.urlFor(this.name);
  }

  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.server.query<T>(sql, params, this.name);
  }

  drop(): Promise<void> {
    return this.server.dropDatabase(this.name);
  }

  /**
   * Scan counters of every table in the public schema. A child's counters reach the shared
   * statistics when its connections close, so read this after the child has exited.
   */
  async tableStats(): Promise<Map<string, TableStats>> {
    const rows = await this.query<{
      table: string;
      seq_scan: string;
      seq_tup_read: string;
      idx_scan: string | null;
      idx_tup_fetch: string | null;
      rows: string;
      bytes: string;
    }>(`
      select relname as "table", seq_scan, seq_tup_read, idx_scan, idx_tup_fetch,
             n_live_tup as rows, pg_total_relation_size(relid) as bytes
        from pg_stat_user_tables where schemaname = 'public'`);
    return new Map(
      rows.map((row) => [
        row.table,
        {
          table: row.table,
          seqScan: Number(row.seq_scan),
          seqTupRead: Number(row.seq_tup_read),
          idxScan: Number(row.idx_scan ?? 0),
          idxTupFetch: Number(row.idx_tup_fetch ?? 0),
          rows: Number(row.rows),
          bytes: Number(row.bytes),
        },
      ]),
    );
  }
}

/** What changed between two snapshots: the tables a run read, and how. */
export function statsDelta(before: Map<string, TableStats>, after: Map<string, TableStats>): TableStats[] {
  const changed: TableStats[] = [];
  for (const [table, now] of after) {
    const then = before.get(table);
    const delta: TableStats = {
      table,
      seqScan: now.seqScan - (then?.seqScan ?? 0),
      seqTupRead: now.seqTupRead - (then?.seqTupRead ?? 0),
      idxScan: now.idxScan - (then?.idxScan ?? 0),
      idxTupFetch: now.idxTupFetch - (then?.idxTupFetch ?? 0),
      rows: now.rows,
      bytes: now.bytes,
    };
    if (delta.seqScan > 0 || delta.idxScan > 0) changed.push(delta);
  }
  return changed.sort((a, b) => a.table.localeCompare(b.table));
}
