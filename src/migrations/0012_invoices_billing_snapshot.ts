// seed #6: the account's billing_email is the source of truth; an invoice keeps a snapshot of
// the billing details as they were when it was issued. A legacy invoice's own billing_email
// moves into its snapshot unchanged (never replaced by the account's current address); the
// name and address it never had come from the account and are listed in "backfilled_fields".
// An invoice with no email of its own gets a whole snapshot from the account, marked
// "backfilled": true (the account's billing_email, else its owner's email). The snapshot's
// fields and its email are the invoice-billing-snapshot-missing rule's.
// Expand, batched: the column (brief), then in batches the empty emails archived and the
// snapshots written. The legacy application keeps writing billing_email (an invoice it issues is
// found by that rule until contract, 0054, snapshots it, sets NOT NULL and drops billing_email).
import type { Migration } from '../db/migrations.js';
import { EMPTY_EMAILS, snapshotUpdateSql } from './support/billing-snapshot.js';
import { forgetLegacyValues } from './support/ddl.js';

const NAME = '0012_invoices_billing_snapshot';
const RANGE = ` and i.id >= ? and i.id < ?`;

const migration: Migration = {
  description: 'invoices: billing_snapshot jsonb, legacy billing_email copied into it (seed #6)',
  phase: 'expand',
  locks: [{ table: 'igny8_invoices', mode: 'ACCESS EXCLUSIVE' }],
  async up({ trx }) {
    await trx.raw(`alter table igny8_invoices add column billing_snapshot jsonb null`);
  },
  backfills: [
    {
      // An empty string is not an address; it is archived so nothing is lost.
      table: 'igny8_invoices',
      remaining: `select count(*) as count from igny8_invoices where billing_email = '' and billing_snapshot is null`,
      batch: `insert into igny8_legacy_values (migration, table_name, row_id, legacy, reason)
              select '${NAME}', 'igny8_invoices', e.* from (${EMPTY_EMAILS} and id >= ? and id < ?) e`,
    },
    {
      table: 'igny8_invoices',
      remaining: `select count(*) as count from igny8_invoices where billing_snapshot is null`,
      batch: snapshotUpdateSql(RANGE),
    },
  ],
  async down({ trx }) {
    await forgetLegacyValues(trx, NAME);
    await trx.raw(`alter table igny8_invoices drop column billing_snapshot`);
  },
};

export default migration;
