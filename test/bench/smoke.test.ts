// The benchmark at a tiny size: every section runs end to end against the server and the
// result is a well-formed document. Times are never asserted: this is not a performance test.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { runBench } from '../../bench/run.js';
import type { BenchResult } from '../../bench/result.js';
import { describeOnServer, SERVER_URL } from '../helpers/databases.js';

const UNITS = ['ms', 's', 'MiB', 'grants/s', '×'];
// The start-up section is left out: it is several embedded-database starts (seconds each on a
// busy machine) and its figures come from the same child-process runner as the rest.
const SECTIONS = new Set(['seed', 'audit', 'repair', 'migrate', 'grants', 'incremental'] as const);
const EVERY_FIGURE = [
  'seed',
  'audit.total',
  'audit.floor',
  'audit.ratio',
  'audit.rss',
  'repair',
  'repair.rss',
  'migrate',
  'audit-target.total',
  'grants.service',
  'grants.service-keyed',
  'grants.service-trx',
  'grants.floor',
  'grants.cli',
  'incremental.checks',
  'incremental.full-checks',
  'incremental.journal-cost',
];

function databasesNamed(details: unknown): string[] {
  const names: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'database' && typeof inner === 'string') names.push(inner);
        else walk(inner);
      }
    }
  };
  walk(details);
  return names;
}

describeOnServer('npm run bench at a smoke size', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures every section but start-up, writes a well-formed JSON result and drops its databases', async () => {
    const { result, file } = await runBench({
      accounts: 300,
      runs: 1,
      auditRuns: 1,
      serverUrl: SERVER_URL,
      grantClients: 2,
      grantsPerClient: 20,
      only: SECTIONS,
      resultsDir: dir,
      updateResults: undefined,
      keep: false,
      // The suite builds dist/ before it runs; a private build would only add a compile.
      inPlace: true,
      quiet: true,
    });
    const written = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
    expect(written).toEqual(JSON.parse(JSON.stringify(result)));
    expect(written.format).toBe('igny8-bench/1');
    expect(written.accounts).toBe(300);
    expect(Date.parse(written.finishedAt)).toBeGreaterThanOrEqual(Date.parse(written.startedAt));
    expect(written.machine).toMatchObject({ node: process.version, postgres: { server_version: expect.any(String) } });

    const failures = written.figures.filter((figure) => figure.status !== 'measured').map((figure) => `${figure.id}: ${figure.note}`);
    expect(failures).toEqual([]);
    for (const figure of written.figures) {
      expect(UNITS).toContain(figure.unit);
      expect(Number.isFinite(figure.value)).toBe(true);
      expect(figure.value).toBeGreaterThanOrEqual(0);
      if (figure.target) expect(typeof figure.meetsTarget === 'boolean' || figure.meetsTarget === null).toBe(true);
    }
    const ids = written.figures.map((figure) => figure.id);
    expect(ids).toEqual(expect.arrayContaining(EVERY_FIGURE));
    expect(ids.filter((id) => id.startsWith('startup.'))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // Size-dependent targets are judged only at 10^6 accounts.
    expect(written.figures.find((figure) => figure.id === 'seed')?.meetsTarget).toBeNull();

    const names = databasesNamed(written.details);
    expect(names.length).toBeGreaterThanOrEqual(3);
    const client = new pg.Client({ connectionString: SERVER_URL });
    await client.connect();
    try {
      const left = await client.query('select datname from pg_database where datname = any($1)', [names]);
      expect(left.rows).toEqual([]);
    } finally {
      await client.end();
    }
  }, 180_000);
});
