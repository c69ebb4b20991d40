import type { Knex } from 'knex';
import { beforeAll, expect, it } from 'vitest';
import { connect, type Database } from '../../src/db/connect.js';
import { withTransaction } from '../../src/db/transaction.js';
import { debitAccountCredits, grantAccountCredits } from '../../src/domain/credit-operations.js';
import { debitCredits, grantCredits, MAX_CREDITS } from '../../src/domain/credits.js';
import { registerAccount } from '../../src/domain/register.js';
import * as api from '../../src/index.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { describeEachDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';
import { createMigratedDatabase } from '../helpers/templates.js';
import { brokenLedgerRows, FAST_SCRYPT, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';

async function newAccount(knex: Knex, plan = 'free'): Promise<{ id: number; slug: string; credits: number }> {
  const registration = await registerAccount(
    knex,
    { email: uniqueEmail('credits'), password: 'Test123!x', accountName: uniqueName('Credits'), plan },
    { scryptCost: FAST_SCRYPT },
  );
  return { id: registration.account.id, slug: registration.account.slug, credits: registration.account.credits };
}

async function balance(knex: Knex, accountId: number): Promise<number> {
  const [row] = (await knex('igny8_accounts').where('id', accountId).select('credits')) as Array<{ credits: number }>;
  return row.credits;
}

async function ledgerCount(knex: Knex, accountId: number): Promise<number> {
  const [{ count }] = (await knex('igny8_credit_transactions').where('account_id', accountId).count({ count: '*' })) as Array<{
    count: number;
  }>;
  return count;
}

describeEachDatabase('the credit service', (fx) => {
  it('grants and debits with one ledger row each, balance_after chained', async () => {
    const account = await newAccount(fx.db.knex);
    expect(account.credits).toBe(1000);
    const granted = await grantAccountCredits(fx.db.knex, { account: account.slug, amount: 250, reason: 'goodwill' });
    expect(granted).toMatchObject({ balance: 1250, replayed: false, entry: { amount: 250, balanceAfter: 1250, type: 'adjustment' } });
    const debited = await debitAccountCredits(fx.db.knex, { account: account.slug, amount: 1000, reason: 'usage' });
    expect(debited).toMatchObject({ balance: 250, entry: { amount: -1000, balanceAfter: 250, type: 'deduction' } });
    expect(await balance(fx.db.knex, account.id)).toBe(250);
    expect(await ledgerCount(fx.db.knex, account.id)).toBe(3);
    expect(await brokenLedgerRows(fx.db.knex, account.id)).toBe(0);
  });

  it('refuses a debit beyond the balance and writes nothing', async () => {
    const account = await newAccount(fx.db.knex);
    const attempt = debitAccountCredits(fx.db.knex, { account: account.slug, amount: 1001, reason: 'too much' });
    await expect(attempt).rejects.toBeInstanceOf(DomainRefusal);
    await expect(attempt).rejects.toThrow(/insufficient credits: the balance is 1000, the debit 1001/);
    expect(await balance(fx.db.knex, account.id)).toBe(1000);
    expect(await ledgerCount(fx.db.knex, account.id)).toBe(1);
    // Down to exactly zero is allowed.
    await debitAccountCredits(fx.db.knex, { account: account.slug, amount: 1000, reason: 'all of it' });
    expect(await balance(fx.db.knex, account.id)).toBe(0);
  });

  it('an idempotency key grants once; the same key with other parameters is refused', async () => {
    const account = await newAccount(fx.db.knex);
    const request = { account: account.slug, amount: 40, reason: 'refund for outage', idempotencyKey: 'outage-2025-11' };
    const first = await grantAccountCredits(fx.db.knex, request);
    const second = await grantAccountCredits(fx.db.knex, request);
    expect(first.replayed).toBe(false);
    expect(second.replayed).toBe(true);
    expect(second.entry).toEqual(first.entry);
    expect(await balance(fx.db.knex, account.id)).toBe(1040);
    await expect(grantAccountCredits(fx.db.knex, { ...request, amount: 41 })).rejects.toThrow(
      /idempotency key already used for another change .* amount 40 \(now 41\)/,
    );
    await expect(grantAccountCredits(fx.db.knex, { ...request, reason: 'other' })).rejects.toBeInstanceOf(DomainRefusal);
    expect(await balance(fx.db.knex, account.id)).toBe(1040);
    expect(await ledgerCount(fx.db.knex, account.id)).toBe(2);
    // The same key on another account is another grant.
    const other = await newAccount(fx.db.knex);
    expect((await grantAccountCredits(fx.db.knex, { ...request, account: other.slug })).replayed).toBe(false);
  });

  it('a retry replays when its reason was stored in another Unicode form; invisible text is refused unwritten', async () => {
    const account = await newAccount(fx.db.knex);
    // As stored before reasons were normalised: decomposed accents.
    await withTransaction(fx.db.knex, (trx) =>
      grantCredits(trx, { accountId: account.id, amount: 7, reason: 're\u0301sume\u0301', idempotencyKey: 'nfd-1' }),
    );
    const retry = await grantAccountCredits(fx.db.knex, { account: account.slug, amount: 7, reason: 're\u0301sume\u0301', idempotencyKey: 'nfd-1' });
    expect(retry.replayed).toBe(true);
    const hidden = api.grantCredits(fx.db.knex, { account: account.slug, amount: 7, reason: 'r\u202Eefund' });
    await expect(hidden).rejects.toBeInstanceOf(ValidationError);
    await expect(hidden).rejects.toMatchObject({ field: 'reason' });
    expect(await balance(fx.db.knex, account.id)).toBe(1007);
    expect(await ledgerCount(fx.db.knex, account.id)).toBe(2);
  });

  it('a replayed key inside a larger transaction leaves that transaction usable', async () => {
    const account = await newAccount(fx.db.knex);
    await withTransaction(fx.db.knex, async (trx) => {
      await grantCredits(trx, { accountId: account.id, amount: 5, reason: 'a', idempotencyKey: 'k1' });
      const again = await grantCredits(trx, { accountId: account.id, amount: 5, reason: 'a', idempotencyKey: 'k1' });
      expect(again.replayed).toBe(true);
      await debitCredits(trx, { accountId: account.id, amount: 3, reason: 'b' });
    });
    expect(await balance(fx.db.knex, account.id)).toBe(1002);
    expect(await brokenLedgerRows(fx.db.knex, account.id)).toBe(0);
  });

  it('refuses a balance beyond 2^31-1, an amount out of range, and an unknown account', async () => {
    const account = await newAccount(fx.db.knex);
    await expect(
      grantAccountCredits(fx.db.knex, { account: account.slug, amount: MAX_CREDITS, reason: 'overflow' }),
    ).rejects.toThrow(/largest storable amount/);
    for (const amount of [0, -1, MAX_CREDITS + 1, 1.5]) {
      await expect(api.grantCredits(fx.db.knex, { account: account.slug, amount, reason: 'bad' })).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
    await expect(grantAccountCredits(fx.db.knex, { account: 'no-such-account', amount: 1, reason: 'x' })).rejects.toThrow(
      /account: no account with slug "no-such-account"/,
    );
    expect(await balance(fx.db.knex, account.id)).toBe(1000);
    expect(await ledgerCount(fx.db.knex, account.id)).toBe(1);
  });

  it('ledger rows cannot be changed afterwards', async () => {
    const account = await newAccount(fx.db.knex);
    await expect(
      fx.db.knex('igny8_credit_transactions').where('account_id', account.id).update({ amount: 5 }),
    ).rejects.toThrow();
  });
}, { migrated: true });

describeOnServer('the credit service under concurrency [postgres]', () => {
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await createMigratedDatabase('postgres');
    await t.db.close();
    db = await connect({ databaseUrl: t.url, poolMax: 10 });
    return async () => {
      await db.close();
      await t.drop().catch(() => undefined);
    };
  });

  it('8 clients × 200 grants on one account: exact balance, unbroken ledger chain', async () => {
    const account = await newAccount(db.knex);
    await Promise.all(
      Array.from({ length: 8 }, async (_, client) => {
        for (let i = 0; i < 200; i++) {
          await grantAccountCredits(db.knex, { account: account.slug, amount: client + 1, reason: `client ${client}` });
        }
      }),
    );
    const expected = 1000 + 200 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8);
    expect(await balance(db.knex, account.id)).toBe(expected);
    expect(await ledgerCount(db.knex, account.id)).toBe(1 + 1600);
    expect(await brokenLedgerRows(db.knex, account.id)).toBe(0);
  });

  it('concurrent debits never overdraw', async () => {
    const account = await newAccount(db.knex); // 1000 credits
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => debitAccountCredits(db.knex, { account: account.slug, amount: 30, reason: 'usage' })),
    );
    const succeeded = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected');
    expect(succeeded).toBe(33);
    expect(refused).toHaveLength(7);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DomainRefusal);
    expect(await balance(db.knex, account.id)).toBe(10);
    expect(await brokenLedgerRows(db.knex, account.id)).toBe(0);
  });

  it('grants and debits mixed: the balance equals the ledger sum, never negative', async () => {
    const account = await newAccount(db.knex);
    await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) =>
        i % 2 === 0
          ? grantAccountCredits(db.knex, { account: account.slug, amount: 7, reason: 'top-up' })
          : debitAccountCredits(db.knex, { account: account.slug, amount: 25, reason: 'usage' }),
      ),
    );
    const [{ sum, min }] = (await db.knex('igny8_credit_transactions')
      .where('account_id', account.id)
      .select(db.knex.raw('sum(amount)::int as sum'), db.knex.raw('min(balance_after) as min'))) as Array<{ sum: number; min: number }>;
    expect(await balance(db.knex, account.id)).toBe(sum);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(await brokenLedgerRows(db.knex, account.id)).toBe(0);
  });

  it('racing retries of one idempotency key grant once, as single statements and inside transactions', async () => {
    const account = await newAccount(db.knex);
    const request = { account: account.slug, amount: 500, reason: 'promo', idempotencyKey: 'promo-race' };
    const inTransaction = { accountId: account.id, amount: 500, reason: 'promo', idempotencyKey: 'promo-race' };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? grantAccountCredits(db.knex, request)
          : withTransaction(db.knex, (trx) => grantCredits(trx, inTransaction)),
      ),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    expect(await balance(db.knex, account.id)).toBe(1500);
    expect(await ledgerCount(db.knex, account.id)).toBe(2);
  });

  it('8 clients × 50 grants inside their own transactions (the programmatic path): exact, chained', async () => {
    const account = await newAccount(db.knex);
    await Promise.all(
      Array.from({ length: 8 }, async (_, client) => {
        for (let i = 0; i < 50; i++) {
          await withTransaction(db.knex, (trx) =>
            grantCredits(trx, { accountId: account.id, amount: 3, reason: 'tx', idempotencyKey: i % 2 ? `c${client}-${i}` : undefined }),
          );
        }
      }),
    );
    expect(await balance(db.knex, account.id)).toBe(1000 + 8 * 50 * 3);
    expect(await brokenLedgerRows(db.knex, account.id)).toBe(0);
  });
});
