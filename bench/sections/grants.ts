// grant-credits throughput: N concurrent clients granting to ONE account (the worst case: every
// grant waits for the account's row lock), through the domain credit service, each client on
// its own connection, each grant its own transaction. Then the account is verified: balance =
// start + every grant, one ledger row per grant, the chain (balance_after = previous +
// amount) unbroken, the last balance_after = the balance. Measured through the service's own
// entry point (one autocommit statement), with idempotency keys, and inside a caller's
// transaction; beside the same SQL through the bare driver; and, for contrast, as concurrent
// CLI calls (each one a Node process start).
import type { Knex } from 'knex';
import pg from 'pg';
import { notAvailable, type BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8 } from '../process.js';
import { TARGETS } from '../result.js';

interface Verification {
  balance: number;
  expectedBalance: number;
  ledgerRows: number;
  expectedLedgerRows: number;
  chainBreaks: number;
  lastBalanceAfter: number | null;
  ok: boolean;
}

async function accountState(db: BenchDatabase, accountId: number): Promise<{ balance: number; rows: number }> {
  const [row] = await db.query<{ credits: number; rows: string }>(
    `select a.credits, (select count(*) from igny8_credit_transactions t where t.account_id = a.id) as rows
       from igny8_accounts a where a.id = $1`,
    [accountId],
  );
  return { balance: Number(row.credits), rows: Number(row.rows) };
}

async function verify(db: BenchDatabase, accountId: number, start: { balance: number; rows: number }, granted: number, grants: number): Promise<Verification> {
  const now = await accountState(db, accountId);
  const [chain] = await db.query<{ breaks: string; last: number | null }>(
    `select count(*) filter (where prev is not null and balance_after <> prev + amount) as breaks,
            (array_agg(balance_after order by id desc))[1] as last
       from (select id, amount, balance_after, lag(balance_after) over (order by id) as prev
               from igny8_credit_transactions where account_id = $1) ledger`,
    [accountId],
  );
  const result = {
    balance: now.balance,
    expectedBalance: start.balance + granted,
    ledgerRows: now.rows,
    expectedLedgerRows: start.rows + grants,
    chainBreaks: Number(chain.breaks),
    lastBalanceAfter: chain.last === null ? null : Number(chain.last),
  };
  return {
    ...result,
    ok:
      result.balance === result.expectedBalance &&
      result.ledgerRows === result.expectedLedgerRows &&
      result.chainBreaks === 0 &&
      result.lastBalanceAfter === result.balance,
  };
}

export type Grant = (knex: Knex, accountId: number, amount: number, key: string | undefined) => Promise<void>;

export interface Service {
  /** The service's own entry point: the grant as one autocommit statement. */
  now: Grant;
  /** The grant inside a caller's transaction (withTransaction + grantCredits). */
  inTransaction: Grant;
  open(url: string): Promise<{ knex: Knex; close(): Promise<void> }>;
}

export async function loadService(): Promise<Service | string> {
  try {
    const [credits, { withTransaction }, { connect }] = await Promise.all([
      import('../../src/domain/credits.js'),
      import('../../src/db/transaction.js'),
      import('../../src/db/connect.js'),
    ]);
    return {
      now: async (knex, accountId, amount, key) => {
        await credits.grantCreditsNow(knex, { accountId, amount, reason: 'bench grant', idempotencyKey: key });
      },
      inTransaction: async (knex, accountId, amount, key) => {
        await withTransaction(knex, (trx) => credits.grantCredits(trx, { accountId, amount, reason: 'bench grant', idempotencyKey: key }));
      },
      open: (url) => connect({ databaseUrl: url, poolMax: 1 }),
    };
  } catch (error) {
    return `the credit service cannot be loaded: ${(error as Error).message}`;
  }
}

/**
 * The floor for grants: the same work in bare SQL through the bare driver — per grant one
 * transaction (begin; one statement that moves one shared balance and appends a ledger row;
 * commit, durably) — so only the row-lock hand-over, the round trips and the WAL flush remain.
 * Also the latency of one such transaction from a single client (no waiting for the lock).
 */
async function grantFloor(
  db: BenchDatabase,
  clients: number,
  perClient: number,
): Promise<{ perSecond: number; commitMs: number; autocommitPerSecond: number }> {
  await db.query(`create table bench_floor_balance (id integer primary key, credits integer not null);
    insert into bench_floor_balance values (1, 0);
    create table bench_floor_ledger (id bigserial primary key, account_id integer not null, amount integer not null, balance_after integer not null)`);
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return client;
    }),
  );
  const statement = `with moved as (update bench_floor_balance set credits = credits + $1 where id = 1 returning id, credits)
       insert into bench_floor_ledger (account_id, amount, balance_after) select id, $1, credits from moved`;
  const grant = async (client: pg.Client, amount: number): Promise<void> => {
    await client.query('begin');
    await client.query(statement, [amount]);
    await client.query('commit');
  };
  // The same statement alone is its own transaction: the row lock is then held only while the
  // server executes and flushes, not across a round trip to the client.
  const grantAutocommit = async (client: pg.Client, amount: number): Promise<void> => {
    await client.query(statement, [amount]);
  };
  const concurrently = async (work: (client: pg.Client, amount: number) => Promise<void>): Promise<number> => {
    const started = performance.now();
    await Promise.all(
      connections.map(async (client) => {
        for (let i = 0; i < perClient; i++) await work(client, 1);
      }),
    );
    return ((clients * perClient) / (performance.now() - started)) * 1000;
  };
  try {
    const single = Math.min(200, clients * perClient);
    const started = performance.now();
    for (let i = 0; i < single; i++) await grant(connections[0], 1);
    const commitMs = (performance.now() - started) / single;
    const perSecond = await concurrently(grant);
    const autocommitPerSecond = await concurrently(grantAutocommit);
    return { perSecond, commitMs, autocommitPerSecond };
  } finally {
    await Promise.all(connections.map((client) => client.end()));
    await db.query('drop table bench_floor_ledger; drop table bench_floor_balance');
  }
}

export async function serviceRun(
  ctx: BenchContext,
  db: BenchDatabase,
  accountId: number,
  service: Service,
  grant: Grant,
  keyed: boolean,
): Promise<{ perSecond: number; ms: number; grants: number; verification: Verification; replay?: Verification }> {
  const { grantClients, grantsPerClient } = ctx.options;
  const clients = await Promise.all(Array.from({ length: grantClients }, () => service.open(db.url)));
  try {
    const runId = Date.now().toString(36);
    const keyOf = (client: number, i: number): string | undefined => (keyed ? `bench-${runId}-${client}-${i}` : undefined);
    const amountOf = (i: number): number => 1 + (i % 7);
    // A first grant per client opens its connection outside the timed part.
    const start = await accountState(db, accountId);
    let granted = 0;
    await Promise.all(clients.map((client) => grant(client.knex, accountId, 1, undefined)));
    granted += grantClients;
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < grantsPerClient; i++) await grant(client.knex, accountId, amountOf(i), keyOf(c, i));
      }),
    );
    const ms = performance.now() - started;
    const grants = grantClients * grantsPerClient;
    for (let i = 0; i < grantsPerClient; i++) granted += amountOf(i) * grantClients;
    const verification = await verify(db, accountId, start, granted, grants + grantClients);
    let replay: Verification | undefined;
    if (keyed) {
      // Every client retries its first 50 keys at once: nothing may be applied twice.
      const retries = Math.min(50, grantsPerClient);
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < retries; i++) await grant(client.knex, accountId, amountOf(i), keyOf(c, i));
        }),
      );
      replay = await verify(db, accountId, start, granted, grants + grantClients);
    }
    return { perSecond: (grants / ms) * 1000, ms, grants, verification, replay };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

export async function benchGrants(ctx: BenchContext): Promise<void> {
  const { rec, options } = ctx;
  const label = `grant-credits, ${options.grantClients} clients on one account (credit service)`;
  const missingCommand = !(await ctx.has(['register'])) ? 'register' : !(await ctx.has(['grant-credits'])) ? 'grant-credits' : undefined;
  const service = await loadService();
  if (typeof service === 'string') {
    rec.missing('grants.service', label, 'grants/s', 'not-available', service, TARGETS.grants);
    return;
  }
  const db = await ctx.server.createDatabase('grants');
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  try {
    for (const args of [['migrate'], ['catalog', 'sync']]) {
      const prepared = await runIgny8(args, { env });
      if (prepared.code !== 0) {
        rec.missing('grants.service', label, 'grants/s', 'failed', `igny8 ${args.join(' ')}: ${failureText(prepared)}`, TARGETS.grants);
        return;
      }
    }
    if (missingCommand) {
      rec.missing('grants.service', label, 'grants/s', 'not-available', notAvailable(missingCommand), TARGETS.grants);
      return;
    }
    const register = await runIgny8(
      ['--json', 'register', '--email', 'bench-owner@example.com', '--password-stdin', '--account-name', 'Bench Account', '--plan', 'free'],
      { env, input: 'bench-Passw0rd-long\n' },
    );
    if (register.code !== 0) {
      rec.missing('grants.service', label, 'grants/s', 'failed', `igny8 register: ${failureText(register)}`, TARGETS.grants);
      return;
    }
    const [account] = await db.query<{ id: string; slug: string }>(
      `select a.id, a.slug from igny8_accounts a join igny8_users u on u.account_id = a.id where u.email = 'bench-owner@example.com'`,
    );
    const accountId = Number(account.id);
    // Each variant is repeated (at most 3 times: each run is seconds long); the median is reported.
    const repeats = Math.min(3, options.runs);
    type ServiceRun = Awaited<ReturnType<typeof serviceRun>>;
    const variants = [
      { id: 'grants.service', text: label, grant: service.now, keyed: false, target: TARGETS.grants as typeof TARGETS.grants | undefined },
      { id: 'grants.service-keyed', text: '  same, each grant with an idempotency key', grant: service.now, keyed: true, target: undefined },
      { id: 'grants.service-trx', text: '  same, inside a caller transaction (withTransaction + grantCredits)', grant: service.inTransaction, keyed: false, target: undefined },
    ];
    const runsOf = new Map<string, ServiceRun[]>(variants.map((variant) => [variant.id, []]));
    for (let r = 0; r < repeats; r++) {
      for (const variant of variants) {
        ctx.log(`credit service (${variant.id}): ${options.grantClients} clients × ${options.grantsPerClient} grants (${r + 1}/${repeats})`);
        runsOf.get(variant.id)!.push(await serviceRun(ctx, db, accountId, service, variant.grant, variant.keyed));
      }
    }
    const record = (id: string, text: string, runs: ServiceRun[], target?: typeof TARGETS.grants) => {
      const checks = runs.flatMap((run) => [run.verification, ...(run.replay ? [run.replay] : [])]);
      const last = runs[runs.length - 1];
      if (checks.every((check) => check.ok)) {
        rec.measured(
          id,
          text,
          'grants/s',
          runs.map((run) => run.perSecond),
          {
            target,
            note: `${last.grants} grants a run; balance exact (${last.verification.balance}), one ledger row per grant, chain intact${last.replay ? ', retried keys applied once' : ''}`,
          },
        );
      } else {
        rec.missing(id, text, 'grants/s', 'failed', `verification failed: ${JSON.stringify(checks.filter((check) => !check.ok))}`, target);
      }
    };
    ctx.log(`grant floor: the same transactions in bare SQL, ${options.grantClients} clients`);
    const floors: Array<Awaited<ReturnType<typeof grantFloor>>> = [];
    for (let r = 0; r < repeats; r++) floors.push(await grantFloor(db, options.grantClients, options.grantsPerClient));
    for (const variant of variants) record(variant.id, variant.text, runsOf.get(variant.id)!, variant.target);
    rec.measured('grants.floor', `  floor: the same transactions in bare SQL, ${options.grantClients} clients`, 'grants/s', floors.map((floor) => floor.perSecond), {
      note: 'begin; one update+insert statement; commit — through pg, no igny8 code',
    });
    rec.measured('grants.floor-autocommit', '  floor: the one statement alone, no begin/commit', 'grants/s', floors.map((floor) => floor.autocommitPerSecond), {
      note: 'the row lock is held only while the server runs and flushes the statement',
    });
    rec.measured('grants.commit', '  one such transaction alone (1 client, no lock wait)', 'ms', floors.map((floor) => floor.commitMs), {
      note: 'round trips + durable commit (WAL flush): a ceiling for grants serialized on one row',
    });
    const calls = options.runs;
    ctx.log(`CLI: ${options.grantClients} concurrent loops × ${calls} igny8 grant-credits`);
    const before = await accountState(db, accountId);
    const started = performance.now();
    const runs = await Promise.all(
      Array.from({ length: options.grantClients }, async () => {
        const codes: number[] = [];
        for (let i = 0; i < calls; i++) {
          const run = await runIgny8(['grant-credits', '--account', account.slug, '--amount', '3', '--reason', 'bench cli grant'], { env });
          codes.push(run.code);
          if (run.code !== 0) return { codes, error: failureText(run) };
        }
        return { codes, error: undefined };
      }),
    );
    const cliMs = performance.now() - started;
    const error = runs.find((run) => run.error)?.error;
    const total = options.grantClients * calls;
    const cliCheck = await verify(db, accountId, before, 3 * total, total);
    if (error) rec.missing('grants.cli', `  same, as ${options.grantClients} loops of CLI calls`, 'grants/s', 'failed', error);
    else if (!cliCheck.ok) rec.missing('grants.cli', `  same, as ${options.grantClients} loops of CLI calls`, 'grants/s', 'failed', `verification failed: ${JSON.stringify(cliCheck)}`);
    else
      rec.measured('grants.cli', `  same, as ${options.grantClients} loops of CLI calls`, 'grants/s', (total / cliMs) * 1000, {
        note: `${total} processes; each starts Node and connects`,
      });
    rec.detail('grants', { database: db.name, accountId, service: Object.fromEntries(runsOf), floors, cli: { ms: cliMs, grants: total, verification: cliCheck } });
  } finally {
    if (ctx.options.keep) ctx.log(`kept database ${db.name}`);
    else await db.drop();
  }
}
