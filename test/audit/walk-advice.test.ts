// A large ledger in arrival order without the walk index makes three checks hash or sort all of
// it. The audit says so once, with the statement that builds the index, and only then.
import { beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { LEDGER_WALK_INDEX, ledgerWalkIndexSql } from '../../src/rules/ledger.js';
import { findRule } from '../../src/rules/registry.js';
import { readShape } from '../../src/rules/shape.js';
import { seedLegacy } from '../../src/seed/legacy.js';
import { parseShape } from '../../src/seed/shape.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, TEST_SECRET_KEY } from '../helpers/legacy-fixture.js';

const ADVISED_STATEMENT = `create index concurrently ${LEDGER_WALK_INDEX} on igny8_credit_transactions (tenant_id, id) include (amount, balance_after)`;

describeEachDatabase('audit: advice about the ledger walk index', (fx) => {
  let ledgerRows = 0;
  let slug = '';
  beforeAll(async () => {
    await seedLegacy(fx.db, { accounts: 60, defectRate: 0, seed: 5, layout: 'arrival', shape: parseShape('production').shape });
    await fx.db.knex.raw('analyze');
    ledgerRows = Number((await fx.db.knex.raw('select count(*) as n from igny8_credit_transactions')).rows[0].n);
    slug = String((await fx.db.knex.raw('select slug from igny8_tenants order by id limit 1')).rows[0].slug);
  });

  async function noticesOf(options: Parameters<typeof runAudit>[1]): Promise<string[]> {
    const notices: string[] = [];
    await runAudit(fx.db.knex, { failOn: 'never', concurrency: fx.kind === 'postgres' ? 2 : 1, ...options, onNotice: (notice) => notices.push(notice) });
    return notices.filter((notice) => notice.includes('the ledger holds'));
  }

  it('names the ledger checks and the statement that builds the index, once per run', async () => {
    const shape = await fx.db.knex.transaction((trx) => readShape(trx));
    expect(shape.ledgerInAccountOrder).toBeUndefined();
    expect(shape.ledgerRows).toBe(ledgerRows);
    const advice = await noticesOf({ walkAdviceRows: ledgerRows });
    expect(advice).toHaveLength(1);
    expect(advice[0]).toContain(`about ${ledgerRows.toLocaleString('en-US')} rows in arrival order`);
    expect(advice[0]).toContain('credit-balance-drift, ledger-chain-broken and signup-credit-shortfall hash or sort all of it');
    expect(advice[0]!.endsWith(`:\n  ${ADVISED_STATEMENT}`)).toBe(true);
  });

  it('names only the ledger checks the run includes', async () => {
    const advice = await noticesOf({ walkAdviceRows: 1, checks: [findRule('ledger-chain-broken')!, findRule('orphan-users')!] });
    expect(advice).toHaveLength(1);
    expect(advice[0]).toContain(': ledger-chain-broken hashes or sorts all of it. This index makes it two');
  });

  it('says nothing below the row threshold, for one account, or without a ledger check', async () => {
    expect(await noticesOf({ walkAdviceRows: ledgerRows + 1 })).toEqual([]);
    expect(await noticesOf({})).toEqual([]);
    expect(await noticesOf({ walkAdviceRows: 1, accountSlug: slug })).toEqual([]);
    expect(await noticesOf({ walkAdviceRows: 1, checks: [findRule('orphan-users')!, findRule('duplicate-emails')!] })).toEqual([]);
  });

  it('says nothing once the advised statement has built the index', async () => {
    await fx.db.knex.raw(ADVISED_STATEMENT);
    try {
      const shape = await fx.db.knex.transaction((trx) => readShape(trx));
      expect(shape.ledgerWalkIndex).toBe(true);
      expect(await noticesOf({ walkAdviceRows: 1 })).toEqual([]);
    } finally {
      await fx.db.knex.raw(`drop index ${LEDGER_WALK_INDEX}`);
    }
  });
});

describeEachDatabase('the walk index built by hand on a legacy database, then the rollout', (fx) => {
  it('is kept by the migrations, which build no second one', async () => {
    await createLegacySchema(fx.db);
    await insertLegacyFixture(fx.db.knex);
    await fx.db.knex.raw(ledgerWalkIndexSql('tenant_id'));
    const expand = await migrateLatest(fx.db, { env: { IGNY8_SECRET_KEY: TEST_SECRET_KEY }, phase: 'expand' });
    expect(expand.error).toBeUndefined();
    const walk = expand.results.find((result) => result.name.startsWith('0073_'));
    expect(walk?.status).toBe('applied');
    expect(walk?.notes.some((note) => note.includes('built concurrently'))).toBe(false);
    const indexes = (
      await fx.db.knex.raw(
        `select indexname, indexdef from pg_indexes where tablename = 'igny8_credit_transactions' and indexdef like '%(account_id%' order by 1`,
      )
    ).rows as Array<{ indexname: string; indexdef: string }>;
    expect(indexes.map((index) => index.indexname)).toEqual(['igny8_credit_transactions_account_id_idempotency_key_key', LEDGER_WALK_INDEX]);
    expect(indexes[1]!.indexdef).toContain('(account_id, id) INCLUDE (amount, balance_after)');
  });
});
