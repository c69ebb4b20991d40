// The invoices' billing snapshot, filled the one way 0012 (expand) and 0054 (contract) both use:
// an invoice's own billing_email kept (never replaced by the account's current address); else a
// snapshot a repair already wrote into metadata on the legacy shape; else a whole snapshot from
// the account, marked "backfilled". An empty billing_email is archived: it is not an address.
import type { Knex } from 'knex';
import { billingAddressFields, billingEmailSql, TARGET_NAMES } from '../../rules/invoice-billing-snapshot-missing.js';
import { archiveLegacyValues, withIndexesRebuilt } from './ddl.js';

const ADDRESS = billingAddressFields('a');

export interface SnapshotCounts {
  own: number;
  fromMetadata: number;
  backfilled: number;
  empty: number;
}

/** The archive of empty billing emails of invoices without a snapshot (a SELECT of row_id, legacy, reason). */
export const EMPTY_EMAILS = `select id, jsonb_build_object('billing_email', billing_email), 'empty billing_email: the snapshot was backfilled'
                              from igny8_invoices where billing_email = '' and billing_snapshot is null`;

/** The UPDATE that fills billing_snapshot where it is NULL; `and` narrows it (e.g. an id range). */
export function snapshotUpdateSql(and = ''): string {
  return `update igny8_invoices i
             set billing_snapshot = case
                   when i.billing_email <> '' then
                     jsonb_build_object('email', i.billing_email, ${ADDRESS},
                                        'backfilled_fields', '["name", "address_line1", "city", "country"]'::jsonb)
                   when jsonb_typeof(i.metadata->'billing_snapshot') = 'object' then i.metadata->'billing_snapshot'
                   else jsonb_build_object('email', ${billingEmailSql(TARGET_NAMES, 'a')}, ${ADDRESS}, 'backfilled', true)
                 end
            from igny8_accounts a
           where a.id = i.account_id and i.billing_snapshot is null${and}`;
}

/** Fills billing_snapshot where it is NULL, in one statement; `migration` names the archive rows. */
export async function fillBillingSnapshots(trx: Knex.Transaction, migration: string): Promise<SnapshotCounts> {
  const empty = await archiveLegacyValues(trx, migration, 'igny8_invoices', EMPTY_EMAILS);
  // One pass over the invoices (plain indexes rebuilt once).
  const written = await withIndexesRebuilt(
    trx,
    'igny8_invoices',
    () =>
      trx.raw(
        `with written as (
           ${snapshotUpdateSql()}
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
  return { ...(written.rows[0] as Omit<SnapshotCounts, 'empty'>), empty };
}
