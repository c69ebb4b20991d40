// seed #11: the one credit service. An account's balance changes only here, and every
// change writes its ledger row (with balance_after) in the same transaction.
//
// - The balance moves with one `update ... set credits = credits + n returning credits`, so
//   concurrent changes to one account serialize on its row lock, and ledger ids follow the
//   order of the changes: each row's balance_after = the previous row's + its amount.
// - A debit never overdraws: the check is in the UPDATE's WHERE, not read-then-write.
// - An idempotency key (unique per account) makes a retry a no-op; the unique index decides,
//   even when two retries race. When the key exists, the original entry is compared with
//   the request: same parameters → the original is returned, nothing applied twice; other
//   parameters → refused.
// - Two entry points: grantCredits/debitCredits inside the caller's transaction (the change
//   runs in a savepoint, so a used key leaves that transaction usable), and
//   grantCreditsNow/debitCreditsNow, where the change is ONE autocommit statement: the row
//   lock is held only while the server runs and commits it, nothing waits on Node.
import type { Knex } from 'knex';
import { LEDGERED_STATEMENT } from '../audit/journal.js';
import { DomainRefusal, sqlState, ValidationError } from '../errors.js';
import { isUniqueViolationOn } from './slugs.js';

export const CREDIT_TRANSACTION_TYPES = ['purchase', 'subscription', 'refund', 'deduction', 'adjustment'] as const;
export type CreditTransactionType = (typeof CREDIT_TRANSACTION_TYPES)[number];
/** The types a grant may carry (a deduction is a debit). */
export const GRANT_TYPES = ['adjustment', 'purchase', 'subscription', 'refund'] as const;

/** The largest amount or balance an `integer` column holds. */
export const MAX_CREDITS = 2 ** 31 - 1;

export interface CreditRequest {
  accountId: number;
  /** Positive: the credits granted, or debited. */
  amount: number;
  /** The ledger's description (at most 255 characters). */
  reason: string;
  type?: CreditTransactionType;
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
}

export interface LedgerEntry {
  id: number;
  accountId: number;
  type: CreditTransactionType;
  /** Signed: deductions are negative. */
  amount: number;
  balanceAfter: number;
  description: string;
  metadata: Record<string, unknown>;
  idempotencyKey: string | null;
  createdAt: Date;
}

export interface CreditResult {
  entry: LedgerEntry;
  /** The balance after this call (for a replay: the balance now). */
  balance: number;
  /** True when the idempotency key had been used already and nothing was applied. */
  replayed: boolean;
}

const LEDGER = 'igny8_credit_transactions';
const ACCOUNTS = 'igny8_accounts';
const OUT_OF_RANGE = '22003';

type LedgerRow = {
  id: number;
  account_id: number;
  transaction_type: CreditTransactionType;
  amount: number;
  balance_after: number;
  description: string;
  metadata: Record<string, unknown> | string;
  idempotency_key: string | null;
  created_at: Date;
};

function toEntry(row: LedgerRow): LedgerEntry {
  return {
    id: row.id,
    accountId: row.account_id,
    type: row.transaction_type,
    amount: row.amount,
    balanceAfter: row.balance_after,
    description: row.description,
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, unknown>) : row.metadata,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
  };
}

/** Adds credits to an account. Runs inside the caller's transaction. */
export function grantCredits(trx: Knex.Transaction, request: CreditRequest): Promise<CreditResult> {
  return applyInTransaction(trx, request, grantType(request), request.amount);
}

/** Takes credits from an account; refused when the balance would go below zero. */
export function debitCredits(trx: Knex.Transaction, request: CreditRequest): Promise<CreditResult> {
  return applyInTransaction(trx, request, request.type ?? 'deduction', -request.amount);
}

/** Adds credits as one statement of its own (no surrounding transaction needed or wanted). */
export function grantCreditsNow(knex: Knex, request: CreditRequest): Promise<CreditResult> {
  return applyNow(knex, request, grantType(request), request.amount);
}

/** Takes credits as one statement of its own; refused when the balance would go below zero. */
export function debitCreditsNow(knex: Knex, request: CreditRequest): Promise<CreditResult> {
  return applyNow(knex, request, request.type ?? 'deduction', -request.amount);
}

function grantType(request: CreditRequest): CreditTransactionType {
  if (request.type === 'deduction') throw new ValidationError('type', 'a grant cannot be a deduction');
  return request.type ?? 'adjustment';
}

class KeyAlreadyUsed extends Error {}

function checkRequest(request: CreditRequest): void {
  if (!Number.isSafeInteger(request.amount) || request.amount < 1 || request.amount > MAX_CREDITS) {
    throw new ValidationError('amount', `must be a whole number from 1 to ${MAX_CREDITS}`);
  }
  if (request.reason.length === 0 || request.reason.length > 255) {
    throw new ValidationError('reason', 'must be 1 to 255 characters');
  }
  if (request.idempotencyKey !== undefined && (request.idempotencyKey.length === 0 || request.idempotencyKey.length > 255)) {
    throw new ValidationError('idempotencyKey', 'must be 1 to 255 characters');
  }
}

function result(row: ChangeRow): CreditResult {
  return { entry: toEntry(row as LedgerRow), balance: row.moved_balance as number, replayed: false };
}

async function applyInTransaction(
  trx: Knex.Transaction,
  request: CreditRequest,
  type: CreditTransactionType,
  delta: number,
): Promise<CreditResult> {
  checkRequest(request);
  if (request.idempotencyKey === undefined) return result(await changeAndRecord(trx, request, type, delta, 'plain'));
  try {
    // A used key makes the ledger insert do nothing; the UPDATE has still run, and rolling
    // back the savepoint undoes it.
    return await trx.transaction(async (savepoint) => {
      const row = await changeAndRecord(savepoint, request, type, delta, 'skip-used-key');
      if (row.id === null) throw new KeyAlreadyUsed();
      return result(row);
    });
  } catch (error) {
    if (!(error instanceof KeyAlreadyUsed)) throw error;
  }
  return replay(trx, request, type, delta);
}

async function applyNow(knex: Knex, request: CreditRequest, type: CreditTransactionType, delta: number): Promise<CreditResult> {
  checkRequest(request);
  try {
    // A used key fails the whole statement (its UPDATE included): nothing was applied.
    return result(await changeAndRecord(knex, request, type, delta, 'plain'));
  } catch (error) {
    if (request.idempotencyKey === undefined || !isUniqueViolationOn(error, 'idempotency_key')) throw error;
  }
  return replay(knex, request, type, delta);
}

type ChangeRow = { moved_balance: number | null } & { [K in keyof LedgerRow]: LedgerRow[K] | null };

/**
 * The balance moves and its ledger row is written in ONE statement, so the account's row
 * lock (which serialises concurrent changes to one account) is held for a single round trip
 * plus the commit. A debit's balance check is in the UPDATE's WHERE. The statement writes a
 * ledger row for the one account it updates, and says so (LEDGERED_STATEMENT): the change
 * journal then leaves the account to that row, and writes nothing while the lock is held.
 */
async function changeAndRecord(
  runner: Knex | Knex.Transaction,
  request: CreditRequest,
  type: CreditTransactionType,
  delta: number,
  usedKey: 'plain' | 'skip-used-key',
): Promise<ChangeRow> {
  let rows: ChangeRow[];
  try {
    const result = await runner.raw(
      `with moved as (
         update ${ACCOUNTS} set credits = credits + ?, updated_at = now()
          where id = ? and credits + ? >= 0 and ${LEDGERED_STATEMENT}
         returning id, credits),
       entry as (
         insert into ${LEDGER} (account_id, transaction_type, amount, balance_after, description, metadata, idempotency_key)
         select id, ?, ?, credits, ?, ?::jsonb, ? from moved
         ${usedKey === 'skip-used-key' ? 'on conflict do nothing' : ''}
         returning *)
       select (select credits from moved) as moved_balance, entry.*
         from (select 1) as one left join entry on true`,
      [
        delta,
        request.accountId,
        delta,
        type,
        delta,
        request.reason,
        JSON.stringify(request.metadata ?? {}),
        request.idempotencyKey ?? null,
      ],
    );
    rows = result.rows as ChangeRow[];
  } catch (error) {
    if (sqlState(error) === OUT_OF_RANGE) {
      throw new DomainRefusal(`the balance would exceed the largest storable amount (${MAX_CREDITS})`, {
        cause: error,
        code: 'balance-overflow',
      });
    }
    throw error;
  }
  const [row] = rows;
  if (row.moved_balance !== null) return row;
  const [account] = (await runner(ACCOUNTS).where('id', request.accountId).select('credits')) as Array<{ credits: number }>;
  if (!account) throw new ValidationError('account', `no account with id ${request.accountId}`);
  throw new DomainRefusal(`insufficient credits: the balance is ${account.credits}, the debit ${-delta}`, {
    code: 'insufficient-credits',
  });
}

async function replay(
  trx: Knex | Knex.Transaction,
  request: CreditRequest,
  type: CreditTransactionType,
  delta: number,
): Promise<CreditResult> {
  const [row] = (await trx(LEDGER)
    .where({ account_id: request.accountId, idempotency_key: request.idempotencyKey })
    .select('*')) as LedgerRow[];
  if (!row) throw new Error(`idempotency key conflict without a ledger row (account ${request.accountId})`);
  const original = toEntry(row);
  const differences: string[] = [];
  if (original.amount !== delta) differences.push(`amount ${Math.abs(original.amount)} (now ${request.amount})`);
  if (original.type !== type) differences.push(`type ${original.type} (now ${type})`);
  // Reasons are stored in NFC now; one kept from before in another form is still the same reason.
  if (original.description.normalize('NFC') !== request.reason.normalize('NFC')) differences.push('the reason');
  if (differences.length > 0) {
    throw new DomainRefusal(
      `idempotency key already used for another change (entry ${original.id}): it differs in ${differences.join(', ')}`,
      { code: 'idempotency-key-reused' },
    );
  }
  const [account] = (await trx(ACCOUNTS).where('id', request.accountId).select('credits')) as Array<{ credits: number }>;
  return { entry: original, balance: account.credits, replayed: true };
}

export interface TopUpRequest {
  accountId: number;
  /** The balance the account is brought up to (never reduced). */
  target: number;
  reason: string;
  /** Required: a period is topped up once (the invoice number, or the period). */
  idempotencyKey: string;
  metadata?: Record<string, unknown>;
}

/**
 * Lifecycle decision: at each new period the balance is topped up to the plan's included
 * credits by ONE keyed ledger row (type subscription), never reduced. When the balance is
 * already there the row's amount is 0: it still records that the period was credited, so a
 * retry, the audit and a concurrent payment all see it. Runs inside the caller's transaction
 * (in a savepoint, so a used key leaves it usable).
 */
export async function topUpCredits(trx: Knex.Transaction, request: TopUpRequest): Promise<CreditResult> {
  if (!Number.isSafeInteger(request.target) || request.target < 0 || request.target > MAX_CREDITS) {
    throw new ValidationError('target', `must be a whole number from 0 to ${MAX_CREDITS}`);
  }
  checkRequest({ ...request, amount: 1 });
  try {
    return await trx.transaction(async (savepoint) => {
      const done = await savepoint.raw(
        `${topUpStatement(`select ?::bigint as account_id, ?::int as target, ?::text as reason, ?::jsonb as metadata, ?::text as idempotency_key`, 'on conflict do nothing')}
         select (select balance from locked) as moved_balance, entry.*
           from (select 1) as one left join entry on true`,
        [request.accountId, request.target, request.reason, JSON.stringify(request.metadata ?? {}), request.idempotencyKey],
      );
      const [row] = done.rows as ChangeRow[];
      if (row.moved_balance === null) {
        // Nothing moved: the key is used already, or there is no such account.
        const [account] = (await savepoint(ACCOUNTS).where('id', request.accountId).select('id')) as Array<{ id: number }>;
        if (!account) throw new ValidationError('account', `no account with id ${request.accountId}`);
        throw new KeyAlreadyUsed();
      }
      if (row.id === null) throw new KeyAlreadyUsed();
      return result(row);
    });
  } catch (error) {
    if (!(error instanceof KeyAlreadyUsed)) throw error;
  }
  const [row] = (await trx(LEDGER)
    .where({ account_id: request.accountId, idempotency_key: request.idempotencyKey })
    .select('*')) as LedgerRow[];
  const [account] = (await trx(ACCOUNTS).where('id', request.accountId).select('credits')) as Array<{ credits: number }>;
  return { entry: toEntry(row), balance: account.credits, replayed: true };
}

/**
 * The top-up's arithmetic, written once for the credit service and the
 * paid-invoice-credits-missing repair: the balance is raised to the target, never reduced, and
 * the ledger row's amount is the rise (0 when the balance is there already).
 */
export function toppedUp(credits: string, target: string): { balance: string; amount: string } {
  return { balance: `greatest(${credits}, ${target})`, amount: `greatest(${target} - ${credits}, 0)` };
}

/**
 * The top-up as CTEs over `due` (columns account_id, target, reason, metadata,
 * idempotency_key; at most one row per account): `locked` (the accounts and their balance
 * after), `moved` (those raised) and `entry` (the ledger rows written). Accounts whose key
 * is used already are left alone; the unique key stays the judge (`onConflict`) when a
 * concurrent writer wins the race.
 */
function topUpStatement(due: string, onConflict = ''): string {
  // Only an account below its target is updated: at the target already, the period still
  // gets its (0-credit) ledger row, and the account row is left alone.
  const top = toppedUp('a.credits', 'd.target');
  return `with due as (${due}),
       locked as (
         select a.id, a.credits, ${top.balance} as balance, ${top.amount} as amount, d.reason, d.metadata, d.idempotency_key
           from ${ACCOUNTS} a join due d on d.account_id = a.id
          where not exists (select 1 from ${LEDGER} l where l.account_id = a.id and l.idempotency_key = d.idempotency_key)
          order by a.id
            for update of a),
       moved as (
         update ${ACCOUNTS} a set credits = l.balance, updated_at = now()
           from locked l where a.id = l.id and l.balance > l.credits
         returning a.id),
       entry as (
         insert into ${LEDGER} (account_id, transaction_type, amount, balance_after, description, metadata, idempotency_key)
         select id, 'subscription', amount, balance, left(reason, 255), metadata, idempotency_key from locked
         ${onConflict}
         returning *)`;
}

/**
 * The set-based top-up (a billing run's monthly credits): every account `due` selects is
 * topped up to its target by one keyed row. Returns the rows written and the credits granted.
 */
export async function topUpCreditsInBulk(
  trx: Knex.Transaction,
  due: string,
  bindings: readonly unknown[] = [],
): Promise<{ rows: number; credits: number }> {
  const done = await trx.raw(
    `${topUpStatement(due)}
     select count(*)::int as rows, coalesce(sum(amount), 0)::bigint as credits from entry`,
    bindings as Knex.RawBinding[],
  );
  const [row] = done.rows as Array<{ rows: number; credits: number | string }>;
  return { rows: Number(row.rows), credits: Number(row.credits) };
}

/** The ledger entry an idempotency key wrote on an account, if any, with the balance now. */
export async function findKeyedEntry(
  knex: Knex | Knex.Transaction,
  accountId: number,
  idempotencyKey: string,
): Promise<CreditResult | undefined> {
  const [row] = (await knex(LEDGER).where({ account_id: accountId, idempotency_key: idempotencyKey }).select('*')) as LedgerRow[];
  if (!row) return undefined;
  const [account] = (await knex(ACCOUNTS).where('id', accountId).select('credits')) as Array<{ credits: number }>;
  return { entry: toEntry(row), balance: account.credits, replayed: true };
}

/** The balance and the last `limit` ledger entries of an account, newest first. */
export async function readLedger(
  knex: Knex | Knex.Transaction,
  accountId: number,
  limit: number,
): Promise<LedgerEntry[]> {
  const rows = (await knex(LEDGER).where('account_id', accountId).orderBy('id', 'desc').limit(limit).select('*')) as LedgerRow[];
  return rows.map(toEntry);
}
