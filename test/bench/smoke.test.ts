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
const SECTIONS = new Set(['seed', 'audit', 'naive', 'jobs', 'repair', 'migrate', 'grants', 'incremental'] as const);
const EVERY_FIGURE = [
  'seed.production.arrival',
  'seed.production.ordered',
  'audit.production.arrival.total',
  'audit.production.arrival.floor',
  'audit.production.arrival.ratio',
  'audit.production.arrival.rss',
  'audit.production.ordered.total',
  'naive.production.arrival.total',
  'naive.production.ordered.total',
  'naive.production.arrival.check.ledger-chain-broken',
  'audit.production.arrival.vs-naive',
  'audit.production.arrival-vs-ordered',
  'jobs.1',
  'jobs.2',
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
      shapes: ['production'],
      layouts: ['arrival', 'ordered'],
      jobs: [1, 2],
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
    expect(written.figures.find((figure) => figure.id === 'seed.production.arrival')?.meetsTarget).toBeNull();
    // the naive baseline counted what the audit found, check by check, on both layouts
    for (const layout of ['arrival', 'ordered']) {
      const naive = written.details[`naive.production.${layout}`] as { counts: Array<{ id: string; count: number }>; disagreements: string[] };
      expect(naive.disagreements).toEqual([]);
      expect(naive.counts.find((check) => check.id === 'ledger-chain-broken')?.count).toBeGreaterThan(0);
    }

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
  }, 300_000);
});
