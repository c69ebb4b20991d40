// The ledger in each account's order, read from an index alone. A live ledger is append-only:
// its heap is in arrival order, every account's rows scattered across it. The audit's ledger
// rules read every row in account order (the chain; the balance's sum and last row), so without
// this index each of them sorts the whole ledger or hashes it by account, a random memory
// access per row, two to three times slower than on a ledger lying in account order
// (bench/RESULTS.md, "The ledger's walk index"). An index on (account_id, id) that carries amount
// and balance_after hands them the rows in that order without reading the heap, whatever order
// the rows arrived in. It answers everything the account index answered (an account's rows, its
// history in id order), so that index is dropped: a ledger insert still maintains one index for
// the account, not two.
// Expand, batched: built concurrently (writes go on), then the old index dropped (brief).
import type { Migration } from '../db/migrations.js';

const WALK = 'igny8_credit_transactions_account_walk_idx';
const ACCOUNT = 'igny8_credit_transactions_account_id_idx';

const migration: Migration = {
  description: 'ledger: an index that reads each account’s rows in id order without the heap',
  phase: 'expand',
  locks: [{ table: 'igny8_credit_transactions', mode: 'ACCESS EXCLUSIVE' }],
  async up() {},
  concurrentIndexes: [
    {
      name: WALK,
      sql: `create index concurrently ${WALK} on igny8_credit_transactions (account_id, id) include (amount, balance_after)`,
    },
  ],
  async finish({ trx, note }) {
    await trx.raw(`drop index if exists ${ACCOUNT}`);
    note(`${ACCOUNT} dropped: ${WALK} answers its lookups`);
  },
  async down({ trx }) {
    await trx.raw(`create index if not exists ${ACCOUNT} on igny8_credit_transactions (account_id)`);
    await trx.raw(`drop index if exists ${WALK}`);
  },
};

export default migration;
