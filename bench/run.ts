// `npm run bench`: igny8 measured as users run it, against a local PostgreSQL server, in
// throwaway databases that the bench creates and drops. Prints a table, writes the figures
// as JSON under bench/results/. Not a test: it asserts no times; a target missed is reported.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext } from './context.js';
import { loadAverage, machineFacts } from './machine.js';
import { parseOptions, USAGE, type BenchOptions, type SectionName } from './options.js';
import { created, Server } from './postgres.js';
import { BIN, memoryMethod, useBin } from './process.js';
import { snapshotCli } from './snapshot.js';
import { renderMarkdown, renderTable, replaceBlock } from './render.js';
import { Recorder, type BenchResult } from './result.js';
import { benchBilling } from './sections/billing.js';
import { benchGrants } from './sections/grants.js';
import { benchIncremental } from './sections/incremental.js';
import { benchLegacy } from './sections/legacy.js';
import { benchMigrateUnderLoad } from './sections/migrate-load.js';
import { benchStartup } from './sections/startup.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let activeServer: Server | undefined;

export async function runBench(options: BenchOptions): Promise<{ result: BenchResult; file: string }> {
  if (!existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const server = new Server(options.serverUrl);
  activeServer = server;
  const startedAt = new Date().toISOString();
  const rec = new Recorder(options.accounts);
  const ctx = createContext(options, server, rec);
  const wants = (section: SectionName): boolean => !options.only || options.only.has(section);
  const machine = await machineFacts(server);
  const snapshot = options.inPlace ? undefined : snapshotCli();
  if (snapshot) useBin(snapshot.bin);
  ctx.log(`igny8 bench: ${options.accounts.toLocaleString('en-US')} accounts, ${BIN}`);
  try {
    if (wants('startup')) await benchStartup(ctx);
    if (['seed', 'audit', 'naive', 'walk', 'expand', 'jobs', 'repair', 'migrate'].some((section) => wants(section as SectionName))) {
      await benchLegacy(ctx, {
        seed: wants('seed'),
        audit: wants('audit'),
        naive: wants('naive'),
        walk: wants('walk'),
        expand: wants('expand'),
        jobs: wants('jobs'),
        journey: wants('repair') || wants('migrate'),
      });
    }
    if (wants('grants')) await benchGrants(ctx);
    if (wants('incremental')) await benchIncremental(ctx);
    if (wants('billing')) await benchBilling(ctx);
    if (wants('migrate-load')) await benchMigrateUnderLoad(ctx);
  } finally {
    if (!options.keep) for (const name of [...created]) await server.dropDatabase(name).catch(() => undefined);
    snapshot?.remove();
  }
  const result: BenchResult = {
    format: 'igny8-bench/1',
    startedAt,
    finishedAt: new Date().toISOString(),
    accounts: options.accounts,
    options: {
      runs: options.runs,
      auditRuns: options.auditRuns,
      grantClients: options.grantClients,
      grantsPerClient: options.grantsPerClient,
      only: options.only ? [...options.only] : 'all',
      shapes: options.shapes,
      layouts: options.layouts,
      jobs: options.jobs,
      memoryMethod: memoryMethod(),
    },
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    figures: rec.figures,
    details: rec.details,
  };
  const dir = path.resolve(ROOT, options.resultsDir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return { result, file };
}

async function main(): Promise<number> {
  // Dropped on Ctrl-C too: a throwaway database must not outlive the run.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const server = activeServer;
      if (!server) process.exit(130);
      void Promise.all([...created].map((name) => server.dropDatabase(name).catch(() => undefined))).finally(() => process.exit(130));
    });
  }
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { result, file } = await runBench(options);
  process.stdout.write(`\nigny8 bench, ${result.accounts.toLocaleString('en-US')} accounts\n${renderTable(result)}\n`);
  const relative = path.relative(ROOT, file);
  process.stdout.write(`figures written to ${relative}\n`);
  if (options.updateResults) {
    const target = path.resolve(options.updateResults);
    const document = existsSync(target) ? readFileSync(target, 'utf8') : '# Benchmark results\n';
    writeFileSync(target, replaceBlock(document, renderMarkdown(result, relative)));
    process.stdout.write(`${path.relative(process.cwd(), target)} updated\n`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  });
}
