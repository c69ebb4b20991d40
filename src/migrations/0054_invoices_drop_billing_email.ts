// seed #6, contract: every invoice has its billing snapshot and billing_email is dropped. An
// invoice the legacy application issued since expand is snapshotted the way 0012 did.
import type { Migration } from '../db/migrations.js';
import { fillBillingSnapshots } from './support/billing-snapshot.js';
import { forgetLegacyValues, plural, setNotNull } from './support/ddl.js';

const NAME = '0054_invoices_drop_billing_email';
const EXPAND = '0012_invoices_billing_snapshot';

const migration: Migration = {
  description: 'invoices: billing_snapshot not null, billing_email dropped (seed #6)',
  phase: 'contract',
  locks: [
    { table: 'igny8_invoices', mode: 'ACCESS EXCLUSIVE', work: 'write' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    const { own, fromMetadata, backfilled } = await fillBillingSnapshots(trx, NAME);
    await setNotNull(trx, 'igny8_invoices', 'billing_snapshot');
    await trx.raw(`alter table igny8_invoices drop column billing_email`);
    const since = own + fromMetadata + backfilled;
    note(`every invoice has its billing snapshot${since > 0 ? ` (${plural(since, 'invoice')} issued since expand snapshotted)` : ''}; billing_email dropped`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_invoices alter column billing_snapshot drop not null`);
    await trx.raw(`alter table igny8_invoices add column billing_email varchar(254) null`);
    await trx.raw(
      `update igny8_invoices set billing_email = billing_snapshot->>'email'
        where coalesce(billing_snapshot->>'backfilled', 'false') <> 'true'`,
    );
    await trx.raw(
      `update igny8_invoices i set billing_email = v.legacy->>'billing_email' from igny8_legacy_values v
        where v.migration in (?, ?) and v.table_name = 'igny8_invoices' and v.row_id = i.id`,
      [NAME, EXPAND],
    );
    await forgetLegacyValues(trx, NAME);
  },
};

export default migration;
