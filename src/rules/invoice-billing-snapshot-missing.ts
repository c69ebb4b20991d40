// seed #6: the account's billing_email is the source of truth and each invoice keeps a
// snapshot of the billing details it was issued to. Legacy invoices carry only billing_email
// (often empty); target invoices a billing_snapshot, which a backfill marks "backfilled": true
// so nobody mistakes it for what was really sent.
//
// The snapshot is defined once, here: registration (src/domain/invoices.ts), the repairs that
// create or backfill invoices and the snapshot migration (0012) all take it from this module.
// Its email is the account's billing email; an empty one (or none) is no address, so the
// invoice goes to the account's owner, the person who signed up. The domain used to copy an
// empty billing email as it was while the repair fell back to the owner's email: an invoice
// created for such an account would have had no address and been reported by this very rule,
// so the fallback is the one definition.
//
// Repair: invoices that kept no billing details get a snapshot of their account's, marked
// backfilled. On the legacy shape (no snapshot column yet) the snapshot goes into
// metadata.billing_snapshot, where the snapshot migration picks it up; the empty billing_email
// is left empty, since a filled one would be carried as if it had been sent.
import { updateLogged } from '../repairs/log.js';
import type { SchemaInfo } from '../schema/inspect.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { Rule } from './types.js';

const INVOICES = 'igny8_invoices';

/** Where the accounts and their users are: a database's SchemaInfo, or TARGET_NAMES. */
export type AccountNames = Pick<SchemaInfo, 'accountsTable' | 'accountColumn'>;

/** The target shape's names, for code that only ever runs on it (the domain, later migrations). */
export const TARGET_NAMES: AccountNames = { accountsTable: 'igny8_accounts', accountColumn: () => 'account_id' };

/** The address an invoice of account row `account` (an alias) is sent to: its billing email, else its owner's. */
export function billingEmailSql(names: AccountNames, account: string): string {
  return `coalesce(nullif(${account}.billing_email, ''),
                   (select u.email from igny8_users u
                     where u.${names.accountColumn('igny8_users')} = ${account}.id and u.role = 'owner' order by u.id limit 1))`;
}

/** The snapshot's fields besides the email, from account row `account`: arguments of jsonb_build_object. */
export function billingAddressFields(account: string): string {
  return `'name', ${account}.name, 'address_line1', ${account}.billing_address_line1, 'city', ${account}.billing_city,
          'country', ${account}.billing_country`;
}

/**
 * The billing snapshot of the account whose id is `accountId` (an SQL expression), as it is
 * now: what an invoice keeps. `backfilled` marks one made after the invoice was issued.
 */
export function billingSnapshotSql(names: AccountNames, accountId: string, backfilled = false): string {
  return `(select jsonb_build_object('email', ${billingEmailSql(names, 'a')}, ${billingAddressFields('a')})${
    backfilled ? ` || '{"backfilled": true}'::jsonb` : ''
  }
             from ${names.accountsTable} a where a.id = ${accountId})`;
}

export const invoiceBillingSnapshotMissing: Rule = {
  id: 'invoice-billing-snapshot-missing',
  severity: 'warning',
  scope: 'account',
  title: 'invoices without a billing email or snapshot',
  remedy: 'igny8 repair invoice-billing-snapshot-missing: snapshot from the account, marked as backfilled',
  verdict(shape) {
    const missing = missingTables(shape, INVOICES, shape.schema.accountsTable);
    if (missing) return missing;
    const { schema } = shape;
    if (schema.hasColumn(INVOICES, 'billing_snapshot') || schema.hasColumn(INVOICES, 'billing_email')) return undefined;
    return { kind: 'not-applicable', reason: 'igny8_invoices has neither billing_email nor billing_snapshot' };
  },
  findings(shape, within) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn(INVOICES);
    const condition = schema.hasColumn(INVOICES, 'billing_snapshot')
      ? `(i.billing_snapshot is null
          or (coalesce(i.billing_snapshot->>'email', '') = '' and coalesce(i.billing_snapshot->>'backfilled', '') <> 'true'))`
      : `(coalesce(i.billing_email, '') = '' and i.metadata->'billing_snapshot' is null)`;
    const batch = withinIds('i.id', within);
    return {
      sql: `select 'invoice:' || i.id as key, i.id as target, a.slug as account, i.id as sort,
                   i.invoice_number, i.status, i.invoice_date,
                   coalesce(a.billing_email, '') <> '' as account_has_billing_email,
                   ${billingEmailSql(schema, 'a')} as _email
              from ${INVOICES} i
              cross join lateral (select id, slug, billing_email from ${schema.accountsTable} where id = i.${accountColumn}) a
             where ${condition}${scopeTo(shape, `i.${accountColumn}`)}${batch.sql}`,
      bindings: batch.bindings,
    };
  },
  repair: {
    action: "store a snapshot of the account's billing details on the invoice, marked backfilled",
    table: () => INVOICES,
    change: (row) => `snapshot from the account (email ${row._email === null || row._email === undefined ? 'none' : String(row._email)}), backfilled`,
    async apply(ctx, keys) {
      const { schema } = ctx.shape;
      const set = schema.hasColumn(INVOICES, 'billing_snapshot')
        ? `billing_snapshot = src.snapshot`
        : `metadata = t.metadata || jsonb_build_object('billing_snapshot', src.snapshot)`;
      const written = await updateLogged(
        ctx,
        INVOICES,
        set,
        `select i.id, ${billingSnapshotSql(schema, `i.${schema.accountColumn(INVOICES)}`, true)} as snapshot
           from ${INVOICES} i where i.id = any(?::bigint[])`,
        [keys],
      );
      return { [INVOICES]: written };
    },
  },
};
