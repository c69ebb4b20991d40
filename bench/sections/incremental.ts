// `audit --incremental` at size, and what its change journal costs the writers.
//  1. `seed legacy` without defects, production-shaped (the arrival layout, the first of the
//     bench's shapes), `igny8 migrate` to the target shape (the journal comes with the last
//     migrations), `audit --record` (the mark);
//  2. 1,000 accounts changed through the credit service (one grant each, from 4 clients);
//  3. `audit --incremental` (not recorded, so every run sees the same 1,000): its check time;
//  4. grant-credits throughput with the journal's triggers and without them, alternating, on
//     this database of full size: 8 clients on one account (as the grants section: the worst
//     case, every grant waiting for one row lock), and 8 clients each on an account of its own
//     (grants to many accounts, as an application makes them).
import { JOURNAL_TRIGGER_NAMES, LEDGERED_STATEMENT } from '../../src/audit/journal.js';
import type { BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { failureText, runIgny8 } from '../process.js';
import { TARGETS } from '../result.js';
import { parseAuditJson } from './audit.js';
import { loadService, serviceRun, type Service } from './grants.js';
import { seedLegacy } from './seed.js';

const CHANGED = 1_000;
/** The tables a grant writes. */
const GRANT_TABLES = ['igny8_accounts', 'igny8_credit_transactions'];

async function changeAccounts(db: BenchDatabase, service: Service, count: number): Promise<number> {
  const ids = (await db.query<{ id: string }>(`select id from igny8_accounts order by random() limit $1`, [count])).map((row) => Number(row.id));
  const clients = await Promise.all(Array.from({ length: 4 }, () => service.open(db.url)));
  try {
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (next < ids.length) await service.now(client.knex, ids[next++]!, 1, undefined);
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  return ids.length;
}

/** Grants per second from `clients` clients, each granting `perClient` times to an account of its own. */
async function spreadRun(db: BenchDatabase, service: Service, accountIds: readonly number[], perClient: number): Promise<number> {
  const clients = await Promise.all(accountIds.map(() => service.open(db.url)));
  try {
    // A first grant per client opens its connection outside the timed part.
    await Promise.all(clients.map((client, c) => service.now(client.knex, accountIds[c]!, 1, undefined)));
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < perClient; i++) await service.now(client.knex, accountIds[c]!, 1, undefined);
      }),
    );
    return ((accountIds.length * perClient) / (performance.now() - started)) * 1000;
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** The journal's triggers on the tables a grant writes, on or off (the ledger has no insert trigger since 0074). */
async function setJournal(db: BenchDatabase, enabled: boolean): Promise<void> {
  const triggers = await db.query<{ table: string; name: string }>(
    `select c.relname as table, t.tgname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where c.relname = any($1) and t.tgname = any($2)`,
    [GRANT_TABLES, [...JOURNAL_TRIGGER_NAMES]],
  );
  for (const { table, name } of triggers) await db.query(`alter table ${table} ${enabled ? 'enable' : 'disable'} trigger ${name}`);
}

/**
 * Microseconds per grant-shaped write (the balance update and the ledger insert a grant makes)
 * in a loop inside the server, marked as the credit service's: the journal's own cost, without
 * round trips or commits.
 */
async function statementMicros(db: BenchDatabase): Promise<number> {
  const [row] = await db.query<{ us: number }>(
    `with t0 as (select clock_timestamp() as t0), run as (select bench_grant_loop(2000) as n)
     select extract(epoch from clock_timestamp() - t0.t0) * 1e6 / 2000 as us from t0, run`,
  );
  return Number(row!.us);
}

const GRANT_LOOP = `create or replace function bench_grant_loop(n integer) returns integer language plpgsql as $$
  declare target bigint := (select min(id) from igny8_accounts);
  begin
    for i in 1..n loop
      with moved as (update igny8_accounts set credits = credits + 1 where id = target and ${LEDGERED_STATEMENT} returning id, credits)
      insert into igny8_credit_transactions (account_id, transaction_type, amount, balance_after, description)
      select id, 'adjustment', 1, credits, 'bench loop' from moved;
    end loop;
    return n;
  end $$`;

export async function benchIncremental(ctx: BenchContext): Promise<void> {
  const { rec, options } = ctx;
  const label = `audit --incremental, ${CHANGED.toLocaleString('en-US')} accounts changed, checks only`;
  const service = await loadService();
  if (typeof service === 'string') {
    rec.missing('incremental.checks', label, 'ms', 'not-available', service, TARGETS.incremental);
    return;
  }
  const shape = options.shapes[0] ?? 'production';
  const outcome = await seedLegacy(ctx, 'incremental', ['--defect-rate', '0', '--layout', 'arrival', '--shape', shape]);
  if (!outcome.ok) {
    rec.missing('incremental.checks', label, 'ms', 'failed', `seed: ${outcome.error}`, TARGETS.incremental);
    return;
  }
  const { db } = outcome.seeded;
  const env = { DATABASE_URL: db.url, IGNY8_SECRET_KEY: ctx.secretKey };
  try {
    ctx.log('igny8 migrate (to the target shape, with the change journal)');
    const migrate = await runIgny8(['--json', 'migrate'], { env });
    if (migrate.code !== 0) {
      rec.missing('incremental.checks', label, 'ms', 'failed', `migrate: ${failureText(migrate)}`, TARGETS.incremental);
      return;
    }
    await db.query('vacuum (analyze)');
    await db.query(GRANT_LOOP);
    ctx.log('audit --record (the mark)');
    const full = await runIgny8(['audit', '--record', '--format', 'json', '--fail-on', 'never'], { env, memory: true });
    const fullReport = parseAuditJson(full.stdout);
    if (full.code !== 0 || !fullReport) {
      rec.missing('incremental.checks', label, 'ms', 'failed', `audit --record: ${failureText(full)}`, TARGETS.incremental);
      return;
    }
    ctx.log(`${CHANGED} accounts changed through the credit service`);
    const changed = await changeAccounts(db, service, CHANGED);
    await db.query('analyze igny8_account_changes');
    const args = ['audit', '--incremental', '--format', 'json', '--fail-on', 'never'];
    const runs = [];
    for (let i = 0; i <= options.auditRuns; i++) {
      ctx.log(`audit --incremental: ${i === 0 ? 'warm-up' : `run ${i} of ${options.auditRuns}`}`);
      const run = await runIgny8(args, { env, memory: true });
      if (run.code !== 0) {
        rec.missing('incremental.checks', label, 'ms', 'failed', failureText(run), TARGETS.incremental);
        return;
      }
      if (i > 0) runs.push(run);
    }
    const reports = runs.map((run) => parseAuditJson(run.stdout)!);
    const checkMs = (report: NonNullable<ReturnType<typeof parseAuditJson>>) => report.checks.reduce((sum, check) => sum + (check.ms ?? 0), 0);
    rec.measured('incremental.checks', label, 'ms', reports.map(checkMs), {
      target: TARGETS.incremental,
      note: `${changed} accounts of the ${shape} shape, arrival layout; the checks that span accounts run in full`,
    });
    rec.measured('incremental.in-process', '  audit --incremental, its own duration (schema read, journal, checks)', 'ms', reports.map((r) => r.totalMs ?? 0));
    rec.measured('incremental.total', '  audit --incremental, whole process', 'ms', runs.map((run) => run.ms));
    rec.measured('incremental.full-checks', '  audit --record (every account, same database), checks only', 'ms', checkMs(fullReport));
    const last = reports[reports.length - 1]!;
    for (const check of last.checks) {
      if (check.ms === undefined || check.status === 'enforced' || check.status === 'not-applicable') continue;
      const samples = reports.map((report) => report.checks.find((c) => c.id === check.id)?.ms ?? 0);
      rec.measured(`incremental.check.${check.id}`, `    ${check.id}`, 'ms', samples, { note: `${check.status ?? ''} ${check.count ?? ''}`.trim() });
    }

    // The journal's cost to writers: the same grants with its triggers and without,
    // alternating in short runs (the machine is shared: neighbours' load must fall on both).
    const [account] = await db.query<{ id: string }>('select id from igny8_accounts order by id limit 1');
    const accountId = Number(account!.id);
    const withJournal: number[] = [];
    const without: number[] = [];
    const statementWith: number[] = [];
    const statementWithout: number[] = [];
    const spreadWith: number[] = [];
    const spreadWithout: number[] = [];
    const spreadAccounts = (
      await db.query<{ id: string }>('select id from igny8_accounts order by id desc limit $1', [options.grantClients])
    ).map((row) => Number(row.id));
    // Eleven pairs, not the section's runs: on a shared two-core host one pair's ratio swings
    // from 0.85 to 1.7, and only the median of many tells a cost of 5-10% (bench/RESULTS.md).
    const repeats = Math.max(11, options.runs);
    try {
      for (let r = 0; r < repeats; r++) {
        for (const enabled of r % 2 === 0 ? [true, false] : [false, true]) {
          await setJournal(db, enabled);
          ctx.log(`grant-credits ${enabled ? 'with' : 'without'} the journal (${r + 1}/${repeats})`);
          const run = await serviceRun(ctx, db, accountId, service, service.now, false);
          if (!run.verification.ok) {
            rec.missing('incremental.journal-cost', 'grant-credits without / with the journal', '×', 'failed', `verification failed: ${JSON.stringify(run.verification)}`);
            return;
          }
          (enabled ? withJournal : without).push(run.perSecond);
          (enabled ? statementWith : statementWithout).push(await statementMicros(db));
          ctx.log(`grant-credits ${enabled ? 'with' : 'without'} the journal, an account per client (${r + 1}/${repeats})`);
          (enabled ? spreadWith : spreadWithout).push(await spreadRun(db, service, spreadAccounts, options.grantsPerClient));
        }
      }
    } finally {
      await setJournal(db, true);
    }
    const clients = `${options.grantClients} clients on one account`;
    rec.measured('incremental.grants-with', `grant-credits with the journal, ${clients}`, 'grants/s', withJournal);
    rec.measured('incremental.grants-without', `grant-credits without the journal's triggers, ${clients}`, 'grants/s', without);
    // Each pair ran back to back: the median of the pairs' ratios cancels slow drifts of load.
    const ratios = withJournal.map((rate, r) => without[r]! / rate);
    rec.measured('incremental.journal-cost', '  throughput without / with the journal (median of the pairs)', '×', ratios, {
      target: TARGETS.journalCost,
    });
    const spread = `${options.grantClients} clients, an account each`;
    rec.measured('incremental.spread-with', `grant-credits with the journal, ${spread}`, 'grants/s', spreadWith);
    rec.measured('incremental.spread-without', `grant-credits without the journal's triggers, ${spread}`, 'grants/s', spreadWithout);
    rec.measured(
      'incremental.spread-cost',
      '  throughput without / with the journal (median of the pairs)',
      '×',
      spreadWith.map((rate, r) => spreadWithout[r]! / rate),
      { target: TARGETS.journalCost },
    );
    rec.measured('incremental.statement-with', '  one grant (update balance + insert ledger row) in a server-side loop, with the journal', 'ms', statementWith.map((us) => us / 1000));
    rec.measured('incremental.statement-without', '  the same without the journal', 'ms', statementWithout.map((us) => us / 1000));
    rec.detail('incremental', { database: db.name, changed, full: fullReport, incremental: last });
  } finally {
    if (ctx.options.keep) ctx.log(`kept database ${db.name}`);
    else await db.drop();
  }
}
