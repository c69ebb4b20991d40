// seed #6: the account's billing_email is the source of truth and each invoice keeps a
// snapshot of it. Legacy invoices carry only billing_email (often empty); target invoices a
// billing_snapshot, which a backfill marks "backfilled": true.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const invoiceBillingSnapshotMissing: Check = {
  id: 'invoice-billing-snapshot-missing',
  severity: 'warning',
  title: 'invoices without a billing email or snapshot',
  remedy: 'igny8 repair invoice-billing-snapshot-missing: snapshot from the account, marked as backfilled',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_invoices', accounts);
    if (missing) return missing;
    const owner = schema.accountColumn('igny8_invoices');
    let condition: string;
    if (schema.hasColumn('igny8_invoices', 'billing_snapshot')) {
      condition = `(i.billing_snapshot is null
        or (coalesce(i.billing_snapshot->>'email', '') = '' and coalesce(i.billing_snapshot->>'backfilled', '') <> 'true'))`;
    } else if (schema.hasColumn('igny8_invoices', 'billing_email')) {
      condition = `(coalesce(i.billing_email, '') = '' and i.metadata->'billing_snapshot' is null)`;
    } else {
      return { kind: 'not-applicable', reason: 'igny8_invoices has neither billing_email nor billing_snapshot' };
    }
    return runFindings(ctx, {
      sql: `select 'invoice:' || i.id as key, a.slug as account, i.id as sort,
                   i.invoice_number, i.status, i.invoice_date,
                   coalesce(a.billing_email, '') <> '' as account_has_billing_email
              from igny8_invoices i
              cross join lateral (select slug, billing_email from ${accounts} where id = i.${owner}) a
             where ${condition}${scopeTo(ctx, `i.${owner}`)}`,
    });
  },
};
