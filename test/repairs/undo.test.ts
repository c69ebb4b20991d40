// repair undo RUN_ID puts back what one repair run changed, from the repair log, in one
// transaction; refuses when rows changed since, for runs that created accounts or wrote
// secrets, and twice; ledger rows are corrected, never deleted. repair --history lists the
// runs with who ran them and why.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { createSite } from '../../src/domain/sites.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { runRepairs } from '../../src/repairs/run.js';
import { runHistory } from '../../src/repairs/runs.js';
import { undoRepairRun } from '../../src/repairs/undo.js';
import { connect } from '../../src/db/connect.js';
import { describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { createMigratedDatabase } from '../helpers/templates.js';
import { brokenLedgerRows, registerActive, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';
import { checkCount, repairOptions } from '../helpers/repair-fixtures.js';
import { all } from '../helpers/sql.js';

const OPERATOR = { ranBy: 'ops-person', reason: 'cleanup after import', igny8Version: '9.9.9' };

async function register(knex: Knex, plan: string) {
  return registerActive(knex, { email: uniqueEmail('undo'), password: 'Sup3r-Secret-Pa55', accountName: uniqueName('Undo'), plan });
}

/** A free account whose signup grant was 100 credits (signup-credit-shortfall). */
async function shortAccount(knex: Knex): Promise<number> {
  const slug = `short-${randomUUID().slice(0, 8)}`;
  const [short] = await all<{ id: number }>(
    knex,
    `insert into igny8_accounts (name, slug, plan_id, credits, status, billing_email)
     select 'Short', ?, id, 100, 'active', 'short@example.com' from igny8_plans where slug = 'free' returning id`,
    [slug],
  );
  await knex.raw(`insert into igny8_users (email, password, role, account_id) values (?, 'x', 'owner', ?)`, [uniqueEmail('short'), short.id]);
  await knex.raw(
    `insert into igny8_credit_transactions (account_id, transaction_type, amount, balance_after, description, idempotency_key)
     values (?, 'subscription', 100, 100, 'signup credits', 'signup')`,
    [short.id],
  );
  return short.id;
}

describeEachDatabase(
  'repair undo and history',
  (fx) => {
    it('puts back roles, access rows and balances; corrects the ledger; records who ran both runs', async () => {
      const knex = fx.db.knex;
      const ownerless = await register(knex, 'growth');
      const withSite = await register(knex, 'growth');
      const site = await createSite(knex, { account: withSite.account.slug, name: 'Blog', domain: 'blog.example.com', industry: 'technology' });
      const shortId = await shortAccount(knex);
      await knex.raw(`update igny8_users set role = 'admin' where id = ?`, [ownerless.user.id]);
      await knex.raw(`delete from igny8_site_user_access where site_id = ?`, [site.id]);
      const ids = ['account-without-owner', 'site-access-missing', 'signup-credit-shortfall'];
      const before = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await checkCount(knex, id)] as const)));
      expect(Object.values(before).every((count) => count >= 1)).toBe(true);

      const runId = randomUUID();
      const report = await runRepairs(fx.db, ids, { ...repairOptions(fx.db), apply: true, runId, operator: OPERATOR });
      expect(report.failed).toBeUndefined();
      for (const id of ids) expect(await checkCount(knex, id)).toBe(0);
      expect((await all<{ credits: number }>(knex, `select credits from igny8_accounts where id = ?`, [shortId]))[0].credits).toBe(1000);

      const undo = await undoRepairRun(fx.db, { runId }, { ...OPERATOR, reason: 'wrong target' });
      expect(undo.undoneRunId).toBe(runId);
      expect(undo.ledgerCorrections).toBe(1);
      expect(undo.written).toMatchObject({ igny8_users: 1, igny8_site_user_access: 1, igny8_accounts: 1, igny8_credit_transactions: 1 });
      // Every check is back where it was.
      for (const id of ids) expect(await checkCount(knex, id)).toBe(before[id]);
      expect((await all<{ role: string }>(knex, `select role from igny8_users where id = ?`, [ownerless.user.id]))[0].role).toBe('admin');
      // The grant stays in the ledger; a correcting row takes it back, the chain intact.
      const ledger = await all<{ amount: number; balance_after: number; description: string }>(
        knex,
        `select amount, balance_after, description from igny8_credit_transactions where account_id = ? order by id`,
        [shortId],
      );
      expect(ledger.map((row) => [row.amount, row.balance_after])).toEqual([
        [100, 100],
        [900, 1000],
        [-900, 100],
      ]);
      expect(ledger[2].description).toContain(runId);
      expect(await brokenLedgerRows(knex, shortId)).toBe(0);
      expect((await all<{ credits: number }>(knex, `select credits from igny8_accounts where id = ?`, [shortId]))[0].credits).toBe(100);

      const history = await runHistory(knex, 10);
      const repairRun = history.find((run) => run.runId === runId);
      const undoRun = history.find((run) => run.runId === undo.runId);
      expect(repairRun).toMatchObject({ kind: 'repair', ranBy: 'ops-person', reason: 'cleanup after import', igny8Version: '9.9.9', undoneBy: undo.runId });
      expect(repairRun!.checkIds).toEqual(expect.arrayContaining(ids));
      expect(undoRun).toMatchObject({ kind: 'undo', reason: 'wrong target', undoes: runId });
      expect(undoRun!.rows).toBe(4);

      const again = undoRepairRun(fx.db, { runId });
      await expect(again).rejects.toThrow(DomainRefusal);
      await expect(again).rejects.toThrow(/was undone already/);
      await expect(undoRepairRun(fx.db, { runId: undo.runId })).rejects.toThrow(/is an undo itself/);
      // The undone correction's key stays used: the repair leaves that account to a person.
      const redo = await runRepairs(fx.db, ['signup-credit-shortfall'], { ...repairOptions(fx.db), apply: true, accountId: shortId });
      expect(redo.failed).toBeUndefined();
      expect(redo.items[0].outcome).toMatchObject({ repaired: 0, leftOver: { count: 1, reason: expect.stringMatching(/correction was undone/) } });
    });

    it('refuses, writing nothing, when a row changed since the run', async () => {
      const knex = fx.db.knex;
      const account = await register(knex, 'growth');
      await knex.raw(`update igny8_users set role = 'admin' where id = ?`, [account.user.id]);
      const runId = randomUUID();
      await runRepairs(fx.db, ['account-without-owner'], { ...repairOptions(fx.db), apply: true, runId, accountId: account.account.id });
      await knex.raw(`update igny8_users set first_name = 'Changed' where id = ?`, [account.user.id]);
      const logRows = await all<{ n: number }>(knex, `select count(*)::int as n from igny8_repair_log`);
      const error = (await undoRepairRun(fx.db, { runId }).catch((e: unknown) => e)) as DomainRefusal;
      expect(error).toBeInstanceOf(DomainRefusal);
      expect(error.message).toMatch(/rows changed since it ran; nothing was written/);
      expect(error.details).toEqual([`igny8_users id ${account.user.id}`]);
      expect((await all<{ role: string }>(knex, `select role from igny8_users where id = ?`, [account.user.id]))[0].role).toBe('owner');
      expect(await all<{ n: number }>(knex, `select count(*)::int as n from igny8_repair_log`)).toEqual(logRows);
    });

    it('refuses runs that wrote secrets or created accounts, and unknown runs', async () => {
      const knex = fx.db.knex;
      const account = await register(knex, 'growth');
      const site = await createSite(knex, { account: account.account.slug, name: 'Shop', domain: 'shop.example.com', industry: 'technology' });
      await knex.raw(
        `insert into igny8_site_integrations (account_id, site_id, platform, config_json, credentials_json)
         values (?, ?, 'custom', '{}', '{"api_key": "sk_live_wp_api_key_123"}')`,
        [account.account.id, site.id],
      );
      const runId = randomUUID();
      const report = await runRepairs(fx.db, ['plaintext-credentials'], { ...repairOptions(fx.db), apply: true, runId, accountId: account.account.id });
      expect(report.failed).toBeUndefined();
      await expect(undoRepairRun(fx.db, { runId })).rejects.toThrow(/its plaintext-credentials step cannot be undone: it moved credentials/);

      const created = randomUUID();
      await knex.raw(
        `insert into igny8_repair_log (run_id, check_id, table_name, row_pk, before, after)
         values (?, 'orphan-users', 'igny8_accounts', jsonb_build_object('id', ?::bigint), null, '{}'::jsonb)`,
        [created, account.account.id],
      );
      await expect(undoRepairRun(fx.db, { runId: created })).rejects.toThrow(/it created 1 account/);
      await expect(undoRepairRun(fx.db, { runId: randomUUID() })).rejects.toThrow(ValidationError);
      await expect(undoRepairRun(fx.db, { runId: 'not-a-run' })).rejects.toThrow(/RUN_ID: must be a run id/);
    });
  },
  { migrated: true },
);

describeOnServer('repair undo under concurrency [postgres]', () => {
  it('two processes undoing one run at once: one undoes it, the other is refused; one correcting row', async () => {
    const t = await createMigratedDatabase('postgres');
    const first = await connect({ databaseUrl: t.url });
    const second = await connect({ databaseUrl: t.url });
    try {
      const shortId = await shortAccount(first.knex);
      const runId = randomUUID();
      await runRepairs(first, ['signup-credit-shortfall'], { ...repairOptions(first), apply: true, runId });
      const results = await Promise.allSettled([undoRepairRun(first, { runId }), undoRepairRun(second, { runId })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [refused] = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused.reason).toBeInstanceOf(DomainRefusal);
      expect(refused.reason.message).toMatch(/was undone already/);
      const ledger = await all<{ amount: number }>(first.knex, `select amount from igny8_credit_transactions where account_id = ? order by id`, [shortId]);
      expect(ledger.map((row) => row.amount)).toEqual([100, 900, -900]);
    } finally {
      await first.close();
      await second.close();
      await t.drop();
    }
  });
});
