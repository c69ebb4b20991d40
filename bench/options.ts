// The harness's flags. Plain node:util parsing: the bench is a developer tool, not part of
// the igny8 CLI, and it must run even while igny8's own commands are half-built.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Legacy accounts to seed. */
  accounts: number;
  /** Repetitions of each short measurement (the median is reported). */
  runs: number;
  /** Measured audit runs at the seeded size (after one warm-up run). */
  auditRuns: number;
  /** Server to create the throwaway databases on (its own database is never touched). */
  serverUrl: string;
  /** Concurrent clients and grants per client for the credit service figure. */
  grantClients: number;
  grantsPerClient: number;
  /** Data shapes the audit is measured on (named shapes of `seed legacy --shape`). */
  shapes: string[];
  /** Layouts each shape is seeded in; the first is the headline. */
  layouts: Array<'arrival' | 'ordered'>;
  /** `audit --jobs` values measured in the jobs section (on the first shape and layout). */
  jobs: number[];
  /** Sections to run (default: all). */
  only: Set<SectionName> | undefined;
  /** Where the JSON result goes (a directory). */
  resultsDir: string;
  /** Replace the generated block of this markdown file with the figures. */
  updateResults: string | undefined;
  /** Keep the throwaway databases (for EXPLAIN ANALYZE afterwards). */
  keep: boolean;
  /** Run bin/igny8 of the working tree instead of a private snapshot of the build. */
  inPlace: boolean;
  quiet: boolean;
}

export const SECTIONS = ['startup', 'seed', 'audit', 'naive', 'walk', 'expand', 'jobs', 'repair', 'migrate', 'grants', 'incremental', 'billing', 'migrate-load'] as const;
export type SectionName = (typeof SECTIONS)[number];

export const USAGE = `npm run bench -- [options]

  --accounts N          legacy accounts to seed (default 20000; 1000000 for the full run)
  --runs N              repetitions of each short figure, median reported (default 5)
  --audit-runs N        measured audit runs after one warm-up (default 3 below 10^5 accounts, else 2)
  --server-url URL      PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
  --grant-clients N     concurrent credit-service clients (default 8)
  --grants N            grants per client (default 250)
  --shapes LIST         data shapes the audit is measured on (default production,busy; seed legacy --shape names)
  --layouts LIST        layouts each shape is seeded in (default arrival,ordered: side by side)
  --jobs LIST           audit --jobs values for the jobs section (default 1,2,4)
  --only LIST           comma-separated sections: ${SECTIONS.join(',')}
                        (naive: the hand-written baseline beside each audit; walk: the audit
                        again with the ledger's walk index built by hand, as the audit advises;
                        expand: the audit again after igny8 migrate --phase expand; jobs: audit
                        --jobs N)
  --results-dir DIR     where the JSON result is written (default bench/results)
  --update-results FILE rewrite the generated block of FILE (e.g. bench/RESULTS.md)
  --keep                keep the throwaway databases instead of dropping them
  --in-place            run the working tree's bin/igny8 and dist/ (default: a private build of
                        src/, so a rebuild of dist/ during the run cannot change the code measured)
  --quiet               no progress lines on stderr
`;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1 (got ${text})`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string' },
      runs: { type: 'string' },
      'audit-runs': { type: 'string' },
      'server-url': { type: 'string' },
      'grant-clients': { type: 'string' },
      grants: { type: 'string' },
      only: { type: 'string' },
      shapes: { type: 'string' },
      layouts: { type: 'string' },
      jobs: { type: 'string' },
      'results-dir': { type: 'string' },
      'update-results': { type: 'string' },
      keep: { type: 'boolean' },
      'in-place': { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const accounts = positiveInt('accounts', values.accounts, 20_000);
  let only: Set<SectionName> | undefined;
  if (values.only) {
    const names = values.only.split(',').map((name) => name.trim()).filter(Boolean);
    const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
    if (unknown.length > 0) throw new Error(`--only: unknown section ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
    only = new Set(names as SectionName[]);
  }
  const list = (text: string | undefined, fallback: string) => (text ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
  const layouts = list(values.layouts, 'arrival,ordered');
  const badLayout = layouts.filter((layout) => layout !== 'arrival' && layout !== 'ordered');
  if (badLayout.length > 0 || layouts.length === 0) throw new Error(`--layouts: arrival and/or ordered (got ${values.layouts})`);
  const jobs = list(values.jobs, '1,2,4').map((value) => positiveInt('jobs', value, 1));
  return {
    accounts,
    shapes: list(values.shapes, 'production,busy'),
    layouts: layouts as Array<'arrival' | 'ordered'>,
    jobs,
    runs: positiveInt('runs', values.runs, 5),
    auditRuns: positiveInt('audit-runs', values['audit-runs'], accounts < 100_000 ? 3 : 2),
    serverUrl: values['server-url'] ?? process.env.IGNY8_BENCH_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    grantClients: positiveInt('grant-clients', values['grant-clients'], 8),
    grantsPerClient: positiveInt('grants', values.grants, 250),
    only,
    resultsDir: values['results-dir'] ?? 'bench/results',
    updateResults: values['update-results'],
    keep: Boolean(values.keep),
    inPlace: Boolean(values['in-place']),
    quiet: Boolean(values.quiet),
  };
}
