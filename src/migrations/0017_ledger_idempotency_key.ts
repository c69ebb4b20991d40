// seed #11: an optional idempotency key, unique per account, makes a retried grant a no-op.
// Keys that legacy-shape repairs wrote into metadata are carried into the column, so those
// repairs stay idempotent after the migration (the first row wins if a key repeats).
import type { Migration } from '../db/migrations.js';
import { plural, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: 'ledger: idempotency_key, unique per account (seed #11)',
  phase: 'expand',
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_credit_transactions add column idempotency_key varchar(255) null`);
    const carried = await writeCount(
      trx,
      `update igny8_credit_transactions t set idempotency_key = t.metadata->>'idempotency_key'
        where t.id in (select distinct on (account_id, metadata->>'idempotency_key') id
                         from igny8_credit_transactions
                        where jsonb_typeof(metadata->'idempotency_key') = 'string'
                          and length(metadata->>'idempotency_key') between 1 and 255
                        order by account_id, metadata->>'idempotency_key', id)`,
    );
    await trx.raw(
      `alter table igny8_credit_transactions
         add constraint igny8_credit_transactions_account_id_idempotency_key_key unique (account_id, idempotency_key)`,
    );
    note(`idempotency_key added; ${plural(carried, 'key')} carried from ledger metadata`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_credit_transactions drop column idempotency_key`);
  },
};

export default migration;
