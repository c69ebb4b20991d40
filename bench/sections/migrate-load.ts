// Migrate under load: the rollout as production meets it, on a seeded legacy database.
//  1. `migrate --phase expand` while 8 clients replay the legacy application's write flows
//     (test/helpers/legacy-app.ts: signups free and paid, sites, sectors, credit changes,
//     payment-method changes, WordPress settings), each flow one transaction, through the
//     legacy search_path (igny8_legacy first);
//  2. `repair --all --yes` (the gates of contract), with no load;
//  3. `migrate --phase contract` while 8 clients run the domain commands' statements
//     (create site, create sector, grant credits; each client's account registered before) on
//     the target names.
// Before expand, the same legacy load runs alone for a while: its own latencies, with no
// migration running, are the baseline. Per migration: the longest time a client transaction took while it ran ("waited": the
// latency a client sees for one transaction) and how many failed. A transaction belongs to the
// migration running when it started. The migrations run in this process (src/db/migrator.ts)
// for their exact start and end times; each client has its own connection.
import pg from 'pg';
import type { BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8 } from '../process.js';
import { seedLegacy } from './seed.js';
import {
  changeCredits,
  changePaymentMethod,
  createSector,
  createSite,
  LEGACY_SEARCH_PATH,
  saveWordPress,
  signup,
  toPgPlaceholders,
  type Sql,
} from '../../test/helpers/legacy-app.js';

const CLIENTS = 8;
const BASELINE_MS = 15_000;

interface Sample {
  started: number;
  ms: number;
  ok: boolean;
  error?: string;
}

interface Window {
  name: string;
  start: number;
  end: number;
  status: string;
}

type Flow = (client: pg.Client, worker: number, iteration: number) => Promise<void>;

/** Runs `flow` on CLIENTS connections in a loop until stopped; every transaction timed. */
async function startLoad(url: string, flow: Flow, setup?: (client: pg.Client) => Promise<void>) {
  const samples: Sample[] = [];
  let running = true;
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      // A client gives up after 30 s: a wait that long is a failure, not a figure.
      await client.query(`set statement_timeout = '30s'`);
      await setup?.(client);
      return client;
    }),
  );
  const loops = clients.map(async (client, worker) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      try {
        await flow(client, worker, i);
        samples.push({ started, ms: performance.now() - started, ok: true });
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        samples.push({ started, ms: performance.now() - started, ok: false, error: (error as Error).message.slice(0, 200) });
      }
    }
  });
  return {
    async stop(): Promise<Sample[]> {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.end()));
      return samples;
    },
  };
}

function sqlOf(client: pg.Client): Sql {
  return async (text, params = []) => (await client.query(toPgPlaceholders(text), [...params])).rows;
}

async function inTransaction(client: pg.Client, work: () => Promise<unknown>): Promise<void> {
  await client.query('begin');
  await work();
  await client.query('commit');
}

/** The legacy application's writes, round-robin; each worker keeps the accounts and sites it made. */
function legacyFlow(industry: { slug: string; sector: string }, prefix: string): Flow {
  const state = new Map<number, { tenant?: number; paid?: number; site?: number }>();
  return async (client, worker, i) => {
    const sql = sqlOf(client);
    const mine = state.get(worker) ?? {};
    state.set(worker, mine);
    const tag = `${prefix}-${worker}-${i}`;
    const step = mine.paid === undefined ? 1 : mine.site === undefined ? 2 : i % 7;
    await inTransaction(client, async () => {
      await client.query(`select set_config('search_path', $1, true)`, [LEGACY_SEARCH_PATH]);
      switch (step) {
        case 0:
          mine.tenant = (await signup(sql, { email: `${tag}@load.example`, slug: tag })).tenant;
          break;
        case 1:
          mine.paid = (await signup(sql, { email: `${tag}@load.example`, slug: tag, plan: 'starter', paymentMethod: 'bank_transfer' })).tenant;
          break;
        case 2:
          mine.site = await createSite(sql, { tenant: mine.paid!, slug: tag, industry: industry.slug });
          break;
        case 3:
          await createSector(sql, { tenant: mine.paid!, site: mine.site!, industrySector: industry.sector }).catch(async (error) => {
            // The site's one sector of that kind exists already: a second is a unique violation.
            if (!/duplicate key/.test((error as Error).message)) throw error;
            await client.query('rollback');
            await client.query('begin');
          });
          break;
        case 4:
          await changeCredits(sql, { tenant: mine.paid!, amount: 100, type: 'purchase' });
          break;
        case 5:
          await changePaymentMethod(sql, { tenant: mine.paid!, type: i % 2 ? 'paypal' : 'stripe' });
          break;
        default:
          await saveWordPress(sql, { site: mine.site!, url: `https://${tag}.example`, username: tag, appPassword: `pw-${tag}`, apiKey: `key-${tag}` });
      }
    });
  };
}

interface Domain {
  registerAccount: typeof import('../../src/domain/register.js').registerAccount;
  createSite: typeof import('../../src/domain/sites.js').createSite;
  createSector: typeof import('../../src/domain/sectors.js').createSector;
  grantCreditsNow: typeof import('../../src/domain/credits.js').grantCreditsNow;
  connect: typeof import('../../src/db/connect.js').connect;
}

/** The domain commands, each on a one-connection pool of its own per client. */
async function domainLoad(url: string, industry: { slug: string; sector: string }, domain: Domain) {
  const pools = await Promise.all(Array.from({ length: CLIENTS }, () => domain.connect({ databaseUrl: url, poolMax: 1 })));
  const samples: Sample[] = [];
  let running = true;
  // Each client's account is registered before the migration starts (password hashing is CPU
  // work in this process, not a statement): the loop is sites, sectors and grants.
  const accounts: Array<{ slug: string; id: number }> = [];
  for (const [worker, db] of pools.entries()) {
    const registered = await domain.registerAccount(db.knex, {
      email: `dom-${worker}@load.example`, password: 'Load-Pa55word!', accountName: `Load ${worker}`, plan: 'free',
    });
    accounts.push({ slug: registered.account.slug, id: registered.account.id });
  }
  const loops = pools.map(async (db, worker) => {
    const account = accounts[worker];
    let site: string | undefined;
    for (let i = 0; running; i++) {
      const tag = `dom-${worker}-${i}`;
      const started = performance.now();
      try {
        // The free plan allows one site with one sector of a kind: each client makes those once,
        // then grants (a refusal by a limit would be counted as a failure).
        if (!site) {
          site = (await domain.createSite(db.knex, { account: account.slug, name: `Site ${tag}`, domain: `${tag}.example`, industry: industry.slug })).slug;
        } else if (i === 1) {
          await domain.createSector(db.knex, { site, account: account.slug, industrySector: industry.sector });
        } else {
          await domain.grantCreditsNow(db.knex, { accountId: account.id, amount: 10, reason: 'load' });
        }
        samples.push({ started, ms: performance.now() - started, ok: true });
      } catch (error) {
        samples.push({ started, ms: performance.now() - started, ok: false, error: (error as Error).message.slice(0, 200) });
      }
    }
  });
  return {
    async stop(): Promise<Sample[]> {
      running = false;
      await Promise.all(loops);
      await Promise.all(pools.map((db) => db.close()));
      return samples;
    },
  };
}

interface PhaseFigures {
  migrations: Array<{ name: string; status: string; ms: number; transactions: number; longestMs: number; failed: number; errors: string[] }>;
  transactions: number;
  longestMs: number;
  failed: number;
}

function attribute(windows: Window[], samples: Sample[]): PhaseFigures {
  const migrations = windows.map((window) => {
    const mine = samples.filter((sample) => sample.started >= window.start && sample.started < window.end);
    const failures = mine.filter((sample) => !sample.ok);
    return {
      name: window.name,
      status: window.status,
      ms: Math.round(window.end - window.start),
      transactions: mine.length,
      longestMs: Math.round(Math.max(0, ...mine.map((sample) => sample.ms))),
      failed: failures.length,
      errors: [...new Set(failures.map((sample) => sample.error ?? ''))].slice(0, 3),
    };
  });
  const during = samples.filter((sample) => windows.length > 0 && sample.started >= windows[0].start && sample.started < windows.at(-1)!.end);
  return {
    migrations,
    transactions: during.length,
    longestMs: Math.round(Math.max(0, ...during.map((sample) => sample.ms))),
    failed: during.filter((sample) => !sample.ok).length,
  };
}

async function industryWithSector(db: BenchDatabase): Promise<{ slug: string; sector: string }> {
  const [row] = await db.query<{ slug: string; sector: string }>(
    `select i.slug, s.slug as sector from igny8_industries i join igny8_industry_sectors s on s.industry_id = i.id
      where i.is_active and s.is_active order by i.id, s.id limit 1`,
  );
  return row;
}

export async function benchMigrateUnderLoad(ctx: BenchContext): Promise<void> {
  const { rec } = ctx;
  const outcome = await seedLegacy(ctx, 'load', ['--defects', 'repairable']);
  if (!outcome.ok) {
    rec.missing('load.expand', 'migrate --phase expand under load', 'ms', 'failed', `seed: ${outcome.error}`);
    return;
  }
  const { db } = outcome.seeded;
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  const [{ connect }, { migrateLatest }, register, sites, sectors, credits] = await Promise.all([
    import('../../src/db/connect.js'),
    import('../../src/db/migrator.js'),
    import('../../src/domain/register.js'),
    import('../../src/domain/sites.js'),
    import('../../src/domain/sectors.js'),
    import('../../src/domain/credits.js'),
  ]);
  const industry = await industryWithSector(db);
  const migrator = await connect({ databaseUrl: db.url });
  const details: Record<string, unknown> = { database: db.name, clients: CLIENTS };
  try {
    const run = async (phase: 'expand' | 'contract', load: { stop(): Promise<Sample[]> }) => {
      const windows: Window[] = [];
      ctx.log(`igny8 migrate --phase ${phase} under load (${CLIENTS} clients)`);
      const report = await migrateLatest(migrator, {
        phase,
        env,
        onStart: (name) => windows.push({ name, start: performance.now(), end: Number.POSITIVE_INFINITY, status: 'running' }),
        onResult: (result) => {
          const window = windows.find((w) => w.name === result.name);
          if (window) Object.assign(window, { end: performance.now(), status: result.status });
        },
      });
      const samples = await load.stop();
      const figures = attribute(windows, samples);
      details[phase] = figures;
      if (report.error) throw new Error(`migrate --phase ${phase}: ${report.error.message}`);
      return figures;
    };
    const record = (phase: 'expand' | 'contract', figures: PhaseFigures, targetMs: number) => {
      rec.measured(`load.${phase}`, `migrate --phase ${phase}: longest client transaction`, 'ms', figures.longestMs, {
        target: { op: '<=', limit: targetMs, text: `≤ ${targetMs} ms` },
        note: `${figures.failed} of ${figures.transactions} client transactions failed`,
      });
      for (const migration of figures.migrations) {
        rec.measured(`load.${phase}.${migration.name}`, `  ${migration.name} (${(migration.ms / 1000).toFixed(1)} s)`, 'ms', migration.longestMs, {
          note: `${migration.failed} of ${migration.transactions} failed${migration.errors.length ? `: ${migration.errors.join('; ')}` : ''}`,
        });
      }
    };
    // The legacy application alone first: what its transactions take with no migration running
    // is the latency the expand figures are read against.
    ctx.log(`the legacy application alone for ${BASELINE_MS / 1000} s (${CLIENTS} clients)`);
    const alone = await startLoad(db.url, legacyFlow(industry, 'alone'));
    await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
    const baseline = await alone.stop();
    const longest = Math.round(Math.max(0, ...baseline.map((sample) => sample.ms)));
    const median = Math.round([...baseline.map((sample) => sample.ms)].sort((a, b) => a - b)[Math.floor(baseline.length / 2)] ?? 0);
    details.baseline = { transactions: baseline.length, longestMs: longest, medianMs: median, failed: baseline.filter((sample) => !sample.ok).length };
    rec.measured('load.baseline', 'legacy application alone: longest client transaction', 'ms', longest, {
      note: `median ${median} ms; ${baseline.filter((sample) => !sample.ok).length} of ${baseline.length} failed`,
    });
    const expand = await run('expand', await startLoad(db.url, legacyFlow(industry, 'load')));
    record('expand', expand, 1000);
    const args = ['--json', 'repair', '--all', '--yes', '--default-industry', industry.slug];
    ctx.log(`igny8 ${args.join(' ')}`);
    const repair = await runIgny8(args, { env });
    if (repair.code !== 0) throw new Error(`repair: ${failureText(repair)}`);
    const domain: Domain = {
      registerAccount: register.registerAccount,
      createSite: sites.createSite,
      createSector: sectors.createSector,
      grantCreditsNow: credits.grantCreditsNow,
      connect,
    };
    const contract = await run('contract', await domainLoad(db.url, industry, domain));
    record('contract', contract, 2000);
  } catch (error) {
    rec.missing('load', 'migrate under load', 'ms', 'failed', (error as Error).message);
  } finally {
    rec.detail('load', details);
    await migrator.close();
    if (ctx.options.keep) ctx.log(`kept database ${db.name}`);
    else await db.drop();
  }
}
