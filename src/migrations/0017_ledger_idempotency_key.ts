// seed #11: an optional idempotency key, unique per account, makes a retried grant a no-op.
// Keys that legacy-shape repairs wrote into metadata are carried into the column, so those
// repairs stay idempotent after the migration (the first row wins if a key repeats).
// Expand, batched: the column (brief), the keys carried in batches, the unique index built
// concurrently (writes go on), then the constraint from that index (brief): the new
// application's idempotent grants rely on it from expand on.
import type { Migration } from '../db/migrations.js';

const KEY = 'igny8_credit_transactions_account_id_idempotency_key_key';
const CARRIED = `jsonb_typeof(metadata->'idempotency_key') = 'string' and length(metadata->>'idempotency_key') between 1 and 255`;

const migration: Migration = {
  description: 'ledger: idempotency_key, unique per account (seed #11)',
  phase: 'expand',
  locks: [{ table: 'igny8_credit_transactions', mode: 'ACCESS EXCLUSIVE' }],
  async up({ trx }) {
    await trx.raw(`alter table igny8_credit_transactions add column idempotency_key varchar(255) null`);
  },
  backfills: [
    {
      table: 'igny8_credit_transactions',
      remaining: `select count(*) as count from igny8_credit_transactions where ${CARRIED} and idempotency_key is null`,
      // The first row of an account with a key carries it; a later repeat keeps it in metadata only.
      batch: `update igny8_credit_transactions t set idempotency_key = t.metadata->>'idempotency_key'
               where t.id >= ? and t.id < ? and t.idempotency_key is null and ${CARRIED.replace(/metadata/g, 't.metadata')}
                 and not exists (select 1 from igny8_credit_transactions o
                                  where o.account_id = t.account_id and o.id < t.id
                                    and o.metadata->>'idempotency_key' = t.metadata->>'idempotency_key')`,
    },
  ],
  concurrentIndexes: [
    { name: KEY, sql: `create unique index concurrently ${KEY} on igny8_credit_transactions (account_id, idempotency_key)` },
  ],
  async finish({ trx, note }) {
    await trx.raw(`alter table igny8_credit_transactions add constraint ${KEY} unique using index ${KEY}`);
    note('idempotency keys are unique per account');
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_credit_transactions drop column idempotency_key`);
  },
};

export default migration;
