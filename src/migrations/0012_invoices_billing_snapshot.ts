// seed #6: the account's billing_email is the source of truth; an invoice keeps a snapshot of
// the billing details as they were when it was issued. A legacy invoice's own billing_email
// moves into its snapshot unchanged (never replaced by the account's current address); the
// name and address it never had come from the account and are listed in "backfilled_fields".
// An invoice with no email of its own gets a whole snapshot from the account, marked
// "backfilled": true (the account's billing_email, else its owner's email). The snapshot's
// fields and its email are the invoice-billing-snapshot-missing rule's.
import type { Migration } from '../db/migrations.js';
import { billingAddressFields, billingEmailSql, TARGET_NAMES } from '../rules/invoice-billing-snapshot-missing.js';
import { archiveLegacyValues, forgetLegacyValues, plural, setNotNull, withIndexesRebuilt } from './support/ddl.js';

const NAME = '0012_invoices_billing_snapshot';

const ADDRESS = billingAddressFields('a');

const migration: Migration = {
  description: 'invoices: billing_snapshot jsonb not null, legacy billing_email moved into it (seed #6)',
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_invoices add column billing_snapshot jsonb null`);
    // An empty string is not an address; it is archived so nothing is lost.
    const empty = await archiveLegacyValues(
      trx,
      NAME,
      'igny8_invoices',
      `select id, jsonb_build_object('billing_email', billing_email), 'empty billing_email: the snapshot was backfilled'
         from igny8_invoices where billing_email = ''`,
    );
    // One pass over the invoices (plain indexes rebuilt once): its own email kept; else a
    // snapshot a repair already wrote into metadata on the legacy shape; else from the account.
    const written = await withIndexesRebuilt(trx, 'igny8_invoices', () =>
      trx.raw(
        `with written as (
           update igny8_invoices i
              set billing_snapshot = case
                    when i.billing_email <> '' then
                      jsonb_build_object('email', i.billing_email, ${ADDRESS},
                                         'backfilled_fields', '["name", "address_line1", "city", "country"]'::jsonb)
                    when jsonb_typeof(i.metadata->'billing_snapshot') = 'object' then i.metadata->'billing_snapshot'
                    else jsonb_build_object('email', ${billingEmailSql(TARGET_NAMES, 'a')}, ${ADDRESS}, 'backfilled', true)
                  end
             from igny8_accounts a
            where a.id = i.account_id
           returning case when i.billing_email <> '' then 'own'
                          when jsonb_typeof(i.metadata->'billing_snapshot') = 'object' then 'metadata'
                          else 'backfilled' end as source)
         select count(*) filter (where source = 'own')::int as own,
                count(*) filter (where source = 'metadata')::int as "fromMetadata",
                count(*) filter (where source = 'backfilled')::int as backfilled
           from written`,
      ),
      { constraints: true },
    );
    const { own, fromMetadata, backfilled } = written.rows[0] as { own: number; fromMetadata: number; backfilled: number };
    await setNotNull(trx, 'igny8_invoices', 'billing_snapshot');
    await trx.raw(`alter table igny8_invoices drop column billing_email`);
    note(
      `billing snapshots: ${plural(own, 'invoice')} with its own billing email kept, ${plural(fromMetadata, 'invoice')} ` +
        `took the snapshot in its metadata, ${plural(backfilled, 'invoice')} backfilled from the account` +
        (empty > 0 ? ` (${empty} had an empty billing_email, archived)` : ''),
    );
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_invoices add column billing_email varchar(254) null`);
    await trx.raw(
      `update igny8_invoices set billing_email = billing_snapshot->>'email'
        where coalesce(billing_snapshot->>'backfilled', 'false') <> 'true'`,
    );
    await trx.raw(
      `update igny8_invoices i set billing_email = v.legacy->>'billing_email' from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_invoices' and v.row_id = i.id`,
      [NAME],
    );
    await forgetLegacyValues(trx, NAME);
    await trx.raw(`alter table igny8_invoices drop column billing_snapshot`);
  },
};

export default migration;
