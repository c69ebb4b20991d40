// audit --incremental: the change journal names exactly the accounts a write touched, and an
// incremental run finds, for those accounts, exactly what a full audit finds (a differential
// test over random changes), while the checks that span accounts run in full and agree with
// the full audit entirely. A recorded run moves the mark; a limited one does not.
import type { Knex } from 'knex';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { changedSince, journaledTables, lastMark as lastMarkOf, readJournal } from '../../src/audit/journal.js';
import { runAudit, type AuditReport } from '../../src/audit/run.js';
import { findRule, RULES } from '../../src/rules/registry.js';
import { grantCredits, grantCreditsNow } from '../../src/domain/credits.js';
import { DomainRefusal } from '../../src/errors.js';
import { readTenancy } from '../../src/schema/tenancy.js';
import { makeAccount, TEST_CREDENTIAL_KEY, type Fixture, type Plan } from '../helpers/check-fixtures.js';
import { runCli } from '../helpers/cli.js';
import { describeEachDatabase, describeOnServer, withTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { createMigratedDatabase } from '../helpers/templates.js';

/** A small deterministic generator: the same seed, the same changes, on both databases. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The mark `audit --incremental` would count from. */
async function lastMark(knex: Knex) {
  return lastMarkOf(knex, (await readJournal(knex))!);
}

/** Rows written: a statement that writes none journals nothing. */
type Mutation = (trx: Knex.Transaction, account: Fixture) => Promise<number | { rowCount?: number }>;

/** Changes a user, an operator or a bug could make; most plant a defect, some fix one, some are harmless. */
const MUTATIONS: Record<string, Mutation> = {
  'owner demoted': (trx, a) => trx('igny8_users').where({ id: a.ownerId }).update({ role: 'admin' }),
  'extra sites': async (trx, a) => {
    const site = await trx('igny8_sites').where({ id: a.siteIds[0] }).first();
    const rows = [1, 2].map((n) => ({ account_id: a.id, name: `Extra ${n}`, slug: `extra-${n}-${uniq()}`, industry_id: site.industry_id }));
    await trx('igny8_sites').insert(rows);
    return rows.length;
  },
  'balance drift': (trx, a) => trx('igny8_accounts').where({ id: a.id }).increment('credits', 7),
  'broken chain': async (trx, a) => {
    await trx('igny8_credit_transactions').insert({ account_id: a.id, transaction_type: 'adjustment', amount: 5, balance_after: 1, description: 'hand-made' });
    return 1;
  },
  'access revoked': (trx, a) => trx('igny8_site_user_access').where({ site_id: a.siteIds[0] }).delete(),
  'extra sectors': async (trx, a) => {
    const sector = await trx('igny8_sectors').where({ id: a.sectorIds[0] }).first();
    const rows = [1, 2, 3, 4, 5, 6].map((n) => ({
      account_id: a.id, site_id: sector.site_id, industry_sector_id: sector.industry_sector_id, name: `S${n}`, slug: `s-${n}-${uniq()}`,
    }));
    await trx('igny8_sectors').insert(rows);
    return rows.length;
  },
  'snapshot emptied': (trx, a) => trx('igny8_invoices').where({ id: a.invoiceId ?? 0 }).update({ billing_snapshot: JSON.stringify({}) }),
  'renamed (harmless)': (trx, a) => trx('igny8_accounts').where({ id: a.id }).update({ name: `Renamed ${a.slug}` }),
  'owner restored': (trx, a) => trx('igny8_users').where({ id: a.ownerId }).update({ role: 'owner' }),
  // The credit service's statement journals nothing itself: its ledger row names the account.
  'credits granted': async (trx, a) => {
    await grantCredits(trx, { accountId: a.id, amount: 3, reason: 'granted in the differential test' });
    return 1;
  },
  'credits granted, then the balance moved by hand': async (trx, a) => {
    await grantCredits(trx, { accountId: a.id, amount: 2, reason: 'granted before a hand edit' });
    return trx('igny8_accounts').where({ id: a.id }).increment('credits', 4);
  },
  'user added': async (trx, a) => {
    await trx('igny8_users').insert({ email: `${a.slug}-x${uniq()}@mail.test`, password: 'pbkdf2_sha256$1$s$h', role: 'editor', account_id: a.id });
    return 1;
  },
};

/** knex-pglite answers a delete with the raw result instead of its count. */
function rowsWritten(result: number | { rowCount?: number }): number {
  return typeof result === 'number' ? result : Number(result.rowCount ?? 0);
}

let unique = 0;
const uniq = () => `${process.pid}-${++unique}`;

/** Every finding key a report shows, per check (samples are all of them: the sample is large). */
function findingsOf(report: AuditReport): Map<string, Array<{ key: string; account: string | null }>> {
  return new Map(
    report.checks.map((check) => {
      expect(check.status, `${check.id}: ${check.error ?? ''}`).not.toBe('error');
      expect(check.samples.length, `${check.id}: every finding sampled`).toBe(check.count);
      return [check.id, check.samples.map((sample) => ({ key: sample.key, account: sample.account ?? null }))];
    }),
  );
}

const audit = (knex: Knex, options: { incremental?: boolean; record?: boolean } = {}) =>
  runAudit(knex, { sample: 100_000, failOn: 'never', credentialKey: TEST_CREDENTIAL_KEY, ...options });

/** The incremental run's findings equal the full run's for the changed accounts; run-in-full checks equal it entirely. */
function expectAgreement(full: AuditReport, incremental: AuditReport, changedSlugs: ReadonlySet<string>): void {
  const whole = findingsOf(full);
  const part = findingsOf(incremental);
  for (const rule of RULES) {
    const expected = whole.get(rule.id)!;
    const got = part.get(rule.id)!;
    if (rule.scope === 'account') {
      const wanted = expected.filter((f) => f.account !== null && changedSlugs.has(f.account)).map((f) => f.key).sort();
      // Of the changed accounts, exactly the full audit's findings; nothing the full audit lacks.
      expect(got.filter((f) => f.account !== null && changedSlugs.has(f.account)).map((f) => f.key).sort(), rule.id).toEqual(wanted);
      const all = new Set(expected.map((f) => f.key));
      for (const f of got) expect(all.has(f.key), `${rule.id}: ${f.key} not in the full audit`).toBe(true);
    } else {
      expect(got.map((f) => f.key).sort(), rule.id).toEqual(expected.map((f) => f.key).sort());
    }
  }
}

describeEachDatabase(
  'audit --incremental',
  (fx) => {
    const accounts: Fixture[] = [];
    beforeAll(async () => {
      const plans: Plan[] = ['free', 'starter', 'growth', 'scale'];
      await fx.db.knex.transaction(async (trx) => {
        for (let index = 0; index < 24; index++) accounts.push(await makeAccount(trx, { plan: plans[index % 4], sites: 1 + (index % 2) }));
        // Defects from before the mark: a full audit finds them, an incremental one leaves them be.
        await MUTATIONS['balance drift']!(trx, accounts[0]!);
        await MUTATIONS['access revoked']!(trx, accounts[1]!);
      });
    }, 60_000);

    it('journals every tenant table and every shared table', async () => {
      const tenancy = await readTenancy(fx.db.knex);
      expect(await journaledTables(fx.db.knex)).toEqual(
        [...tenancy.tenant.map((t) => t.table), ...tenancy.reference].sort(),
      );
    });

    it('refuses (exit 3) before any recorded run, saying how to set the mark', async () => {
      const refused = await audit(fx.db.knex, { incremental: true }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DomainRefusal);
      expect((refused as Error).message).toMatch(/audit --record/);
    });

    it('a recorded run of some checks only does not set the mark', async () => {
      const report = await runAudit(fx.db.knex, { record: true, checks: [findRule('credit-balance-drift')!] });
      expect(report.movedMark).toBe(false);
      expect(await lastMark(fx.db.knex)).toBeUndefined();
    });

    it('differential: over random changes, incremental findings for the changed accounts equal a full audit', async () => {
      const first = await audit(fx.db.knex, { record: true });
      expect(first.movedMark).toBe(true);
      const next = random(17);
      const names = Object.keys(MUTATIONS);
      for (let round = 0; round < 3; round++) {
        const touched = new Set<number>();
        await fx.db.knex.transaction(async (trx) => {
          for (let change = 0; change < 8; change++) {
            const account = accounts[Math.floor(next() * accounts.length)]!;
            const written = rowsWritten(await MUTATIONS[names[Math.floor(next() * names.length)]!]!(trx, account));
            if (written > 0) touched.add(account.id);
          }
        });
        // The journal names exactly the accounts written since the mark.
        const mark = (await lastMark(fx.db.knex))!;
        const changed = await changedSince(fx.db.knex, mark);
        expect(changed).toEqual({ all: false, accountIds: [...touched].sort((a, b) => a - b) });

        const incremental = await audit(fx.db.knex, { incremental: true, record: true });
        const full = await audit(fx.db.knex);
        expect(incremental.incremental?.accounts).toBe(touched.size);
        expect(incremental.incremental?.inFull).toEqual(RULES.filter((rule) => rule.scope !== 'account').map((rule) => rule.id));
        expect(incremental.movedMark).toBe(true);
        const slugs = new Set(accounts.filter((a) => touched.has(a.id)).map((a) => a.slug));
        expectAgreement(full, incremental, slugs);
        // Something was found, and what predates the mark in unchanged accounts was not.
        expect(incremental.totals.rows).toBeGreaterThan(0);
        if (!touched.has(accounts[0]!.id)) {
          expect(findingsOf(incremental).get('credit-balance-drift')!.some((f) => f.account === accounts[0]!.slug)).toBe(false);
        }
      }
      // Nothing changed since the last recorded run: no account is audited again.
      const quiet = await audit(fx.db.knex, { incremental: true });
      expect(quiet.incremental?.accounts).toBe(0);
      for (const check of quiet.checks) if (findRule(check.id)!.scope === 'account') expect(check.count, check.id).toBe(0);
    }, 120_000);

    it('a recorded run of every check drops the journal rows older than its snapshot', async () => {
      // Older: written by transactions that ended before the oldest one the snapshot saw running
      // (on a shared server that may be another database's: rows after it stay, harmlessly).
      const before = async (mark: string) =>
        Number((await fx.db.knex.raw(`select count(*) as n from igny8_account_changes where xid < pg_snapshot_xmin(?::pg_snapshot)`, [mark])).rows[0].n);
      const previous = (await lastMark(fx.db.knex))!.mark;
      await fx.db.knex('igny8_accounts').where({ id: accounts[2]!.id }).update({ name: 'Renamed again' });
      await audit(fx.db.knex, { record: true });
      const mark = (await lastMark(fx.db.knex))!;
      expect(mark.mark).not.toBe(previous);
      expect(await before(mark.mark)).toBe(0);
      expect(await changedSince(fx.db.knex, mark)).toEqual({ all: false, accountIds: [] });
      if (fx.kind === 'pglite') expect(Number((await fx.db.knex('igny8_account_changes').count({ n: '*' }))[0]!.n)).toBe(0);
    });

    it('a check with a suppression that expired since the recorded run runs in full', async () => {
      const drifting = accounts[3]!;
      await fx.db.knex('igny8_accounts').where({ id: drifting.id }).increment('credits', 11);
      await audit(fx.db.knex, { record: true });
      const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
      const later = new Date(Date.now() + 3 * 86_400_000);
      const key = `account:${drifting.id}`;
      const run = (until: string) =>
        runAudit(fx.db.knex, {
          incremental: true,
          sample: 1000,
          failOn: 'never',
          now: later,
          suppressions: [{ check: 'credit-balance-drift', keys: [key], reason: 'being fixed', until }],
        });
      // Held at the recorded run, expired now: the row counts again though its account did not change.
      const expired = await run(day(1));
      expect(expired.incremental?.inFull).toContain('credit-balance-drift');
      expect(expired.checks.find((c) => c.id === 'credit-balance-drift')!.samples.map((sample) => sample.key)).toContain(key);
      // Expired before the recorded run: that run already counted the row; only changed accounts again.
      const old = await run('2000-01-01');
      expect(old.incremental?.inFull).not.toContain('credit-balance-drift');
      expect(old.checks.find((c) => c.id === 'credit-balance-drift')!.samples.map((sample) => sample.key)).not.toContain(key);
    });

    it('the ledger and the credit service journal nothing: the ledger rows above the mark\'s bound name their accounts', async () => {
      await audit(fx.db.knex, { record: true });
      const mark = (await lastMark(fx.db.knex))!;
      expect(mark.ledger).not.toBeNull();
      const journalRows = async () => Number((await fx.db.knex('igny8_account_changes').count({ n: '*' }))[0]!.n);
      const rowsBefore = await journalRows();
      // A ledger row alone (no balance update): no journal row, and still a changed account.
      await fx.db.knex('igny8_credit_transactions').insert({
        account_id: accounts[4]!.id, transaction_type: 'adjustment', amount: 2, balance_after: 2, description: 'written by hand',
      });
      expect(await journalRows()).toBe(rowsBefore);
      expect(await changedSince(fx.db.knex, mark)).toEqual({ all: false, accountIds: [accounts[4]!.id] });
      // The credit service's grant marks itself: no journal row either.
      await grantCreditsNow(fx.db.knex, { accountId: accounts[5]!.id, amount: 5, reason: 'a grant between audits' });
      expect(await journalRows()).toBe(rowsBefore);
      expect(await changedSince(fx.db.knex, mark)).toEqual({ all: false, accountIds: [4, 5].map((i) => accounts[i]!.id) });
      // The statement after it in the same transaction is journaled as any other write.
      await fx.db.knex.transaction(async (trx) => {
        await grantCredits(trx, { accountId: accounts[6]!.id, amount: 1, reason: 'a grant, then a hand edit' });
        await trx('igny8_accounts').where({ id: accounts[7]!.id }).increment('credits', 9);
      });
      expect(await journalRows()).toBe(rowsBefore + 1);
      expect(await changedSince(fx.db.knex, mark)).toEqual({ all: false, accountIds: [4, 5, 6, 7].map((i) => accounts[i]!.id) });
      const report = await audit(fx.db.knex, { incremental: true });
      const chain = report.checks.find((check) => check.id === 'ledger-chain-broken')!;
      expect(chain.samples.map((sample) => sample.account)).toContain(accounts[4]!.slug);
      const drift = report.checks.find((check) => check.id === 'credit-balance-drift')!;
      expect(drift.samples.map((sample) => sample.account)).toContain(accounts[7]!.slug);
    });

    it('a change to a shared table (plans) makes every account changed', async () => {
      await audit(fx.db.knex, { record: true });
      await fx.db.knex('igny8_plans').where({ slug: 'scale' }).update({ name: fx.db.knex.raw('name') });
      const report = await audit(fx.db.knex, { incremental: true });
      expect(report.incremental?.accounts).toBe('all');
      expectAgreement(await audit(fx.db.knex), report, new Set(accounts.map((a) => a.slug)));
    }, 60_000);

    it('a TRUNCATE of a tenant table makes every account changed (it names no rows)', async () => {
      await audit(fx.db.knex, { record: true });
      await fx.db.knex.raw('truncate igny8_site_integrations');
      expect((await changedSince(fx.db.knex, (await lastMark(fx.db.knex))!)).all).toBe(true);
    });
  },
  { migrated: true },
);

describeEachDatabase(
  'igny8 audit --incremental, as a user runs it',
  (fx) => {
    it('exit 3 before a recorded run; after `audit --record`, only the changed account is audited', async () => {
      const env = fx.t.env;
      if (fx.kind === 'pglite') await fx.t.db.close();
      const first = await runCli(['audit', '--incremental'], { env });
      expect(first.code).toBe(3);
      expect(first.stderr).toMatch(/audit --record/);

      const recorded = await runCli(['audit', '--record', '--fail-on', 'never'], { env });
      expect(recorded.code).toBe(0);
      expect(recorded.stderr).toMatch(/--incremental` now counts changes from this run/);

      const slug = await withTestDatabase(fx.t, (db) =>
        db.knex.transaction(async (trx) => {
          const account = await makeAccount(trx);
          await trx('igny8_accounts').where({ id: account.id }).increment('credits', 3);
          return account.slug;
        }),
      );
      const result = await runCli(['audit', '--incremental', '--json', '--fail-on', 'never', '--sample', '10'], { env });
      expect(result.code).toBe(0);
      const document = JSON.parse(result.stdout) as {
        incremental: { accounts: number; inFull: string[] };
        checks: Array<{ id: string; count: number; samples: Array<{ account: string }> }>;
      };
      expect(document.incremental.accounts).toBe(1);
      expect(document.incremental.inFull).toContain('plan-catalog-drift');
      const drift = document.checks.find((check) => check.id === 'credit-balance-drift')!;
      expect(drift.count).toBe(1);
      expect(drift.samples[0]!.account).toBe(slug);
      expect(result.stderr).toMatch(/incremental: 1 account changed since the recorded run/);
    }, 60_000);
  },
  { migrated: true, onDisk: true },
);

describeOnServer('audit --record and the transactions writing the ledger', () => {
  let t: TestDatabase;
  let account: Fixture;
  let other: Fixture;
  beforeAll(async () => {
    t = await createMigratedDatabase('postgres');
    account = await t.db.knex.transaction((trx) => makeAccount(trx));
    other = await t.db.knex.transaction((trx) => makeAccount(trx));
  }, 60_000);
  afterAll(async () => {
    await t?.drop();
  });

  /** A second connection that has written a ledger row (a broken chain) and not committed yet. */
  async function openWriter(): Promise<pg.Client> {
    const writer = new pg.Client({ connectionString: t.url });
    await writer.connect();
    await writer.query('begin');
    await writer.query(
      `insert into igny8_credit_transactions (account_id, transaction_type, amount, balance_after, description) values ($1, 'adjustment', 5, 1, 'open')`,
      [account.id],
    );
    return writer;
  }

  it('waits for a ledger writer that started before it, so that writer\'s row is in its snapshot', async () => {
    const writer = await openWriter();
    // A later row, committed: the bound is above the open writer's row.
    await grantCreditsNow(t.db.knex, { accountId: other.id, amount: 1, reason: 'committed after the open row' });
    let finished = false;
    const running = audit(t.db.knex, { record: true }).then((report) => {
      finished = true;
      return report;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(finished).toBe(false);
    await writer.query('commit');
    await writer.end();
    const report = await running;
    expect(report.movedMark).toBe(true);
    const chain = report.checks.find((check) => check.id === 'ledger-chain-broken')!;
    expect(chain.samples.map((sample) => sample.account)).toContain(account.slug);
    // The row is below the bound, and it was in the snapshot: nothing changed since.
    expect(await changedSince(t.db.knex, (await lastMark(t.db.knex))!)).toEqual({ all: false, accountIds: [] });
  });

  it('a writer that stays open: the run is recorded, the mark stays, and its row counts as a change later', async () => {
    const before = (await lastMark(t.db.knex))!;
    const writer = await openWriter();
    const notices: string[] = [];
    try {
      const report = await runAudit(t.db.knex, { record: true, failOn: 'never', ledgerWaitMs: 300, onNotice: (notice) => notices.push(notice) });
      expect(report.movedMark).toBe(false);
      expect(notices.join('\n')).toMatch(/writing the ledger stayed open/);
      expect((await lastMark(t.db.knex))!.runId).toBe(before.runId);
    } finally {
      await writer.query('commit');
      await writer.end();
    }
    expect((await changedSince(t.db.knex, (await lastMark(t.db.knex))!)).accountIds).toEqual([account.id]);
  });
});
