// seed #6: the account's billing_email is the source of truth; an invoice keeps a snapshot of
// the billing details as they were when it was issued. A legacy invoice's own billing_email
// moves into its snapshot unchanged (never replaced by the account's current address); the
// name and address it never had come from the account and are listed in "backfilled_fields".
// An invoice with no email of its own gets a whole snapshot from the account, marked
// "backfilled": true (the account's billing_email, else its owner's email). The snapshot's
// fields and its email are the invoice-billing-snapshot-missing rule's.
// Expand: the column and the snapshots; the legacy application keeps writing billing_email (an
// invoice it issues is found by that rule until contract, 0054, snapshots it, sets NOT NULL and
// drops billing_email).
import type { Migration } from '../db/migrations.js';
import { fillBillingSnapshots } from './support/billing-snapshot.js';
import { forgetLegacyValues, plural } from './support/ddl.js';

const NAME = '0012_invoices_billing_snapshot';

const migration: Migration = {
  description: 'invoices: billing_snapshot jsonb, legacy billing_email copied into it (seed #6)',
  phase: 'expand',
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_invoices add column billing_snapshot jsonb null`);
    const { own, fromMetadata, backfilled, empty } = await fillBillingSnapshots(trx, NAME);
    note(
      `billing snapshots: ${plural(own, 'invoice')} with its own billing email kept, ${plural(fromMetadata, 'invoice')} ` +
        `took the snapshot in its metadata, ${plural(backfilled, 'invoice')} backfilled from the account` +
        (empty > 0 ? ` (${empty} had an empty billing_email, archived)` : ''),
    );
  },
  async down({ trx }) {
    await forgetLegacyValues(trx, NAME);
    await trx.raw(`alter table igny8_invoices drop column billing_snapshot`);
  },
};

export default migration;
