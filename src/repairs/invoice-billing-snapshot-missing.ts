// seed #6: an invoice keeps the billing details it was issued to. Invoices that kept none
// get a snapshot of their account's details, marked `"backfilled": true` so nobody mistakes
// it for what was really sent. On the legacy shape (no snapshot column yet) the snapshot
// goes into metadata.billing_snapshot, where the snapshot migration picks it up; the empty
// billing_email is left empty, since a filled one would be carried as if it had been sent.
import { updateLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext } from './types.js';

const INVOICES = 'igny8_invoices';

function hasSnapshotColumn(ctx: RepairContext): boolean {
  return ctx.schema.hasColumn(INVOICES, 'billing_snapshot');
}

function missingSql(ctx: RepairContext): string {
  const col = names(ctx.schema).acct(INVOICES);
  const missing = hasSnapshotColumn(ctx)
    ? `(i.billing_snapshot is null or (coalesce(i.billing_snapshot->>'email', '') = ''
         and coalesce(i.billing_snapshot->>'backfilled', 'false') <> 'true'))`
    : `(coalesce(i.billing_email, '') = '' and i.metadata->'billing_snapshot' is null)`;
  return `select i.id from ${INVOICES} i where ${missing}${inScope(ctx, `i.${col}`)}`;
}

/**
 * The billing details of account `accountExpr` now (its billing email, else its owner's email),
 * as registration snapshots them; `backfilled` marks a snapshot made after the fact.
 */
export function accountSnapshotSql(ctx: RepairContext, accountExpr: string, backfilled: boolean): string {
  const { accounts, acct } = names(ctx.schema);
  const userCol = acct('igny8_users');
  return `(select jsonb_build_object(
             'email', coalesce(nullif(a.billing_email, ''),
                               (select u.email from igny8_users u where u.${userCol} = a.id and u.role = 'owner' order by u.id limit 1)),
             'name', a.name, 'address_line1', a.billing_address_line1, 'city', a.billing_city,
             'country', a.billing_country)${backfilled ? ` || '{"backfilled": true}'::jsonb` : ''}
           from ${accounts} a where a.id = ${accountExpr})`;
}

function snapshotSql(ctx: RepairContext, invoice: string): string {
  return accountSnapshotSql(ctx, `${invoice}.${names(ctx.schema).acct(INVOICES)}`, true);
}

export const invoiceBillingSnapshotMissing: Repair = {
  checkId: 'invoice-billing-snapshot-missing',
  action: "store a snapshot of the account's billing details on the invoice, marked backfilled",
  table: () => INVOICES,
  async targets(ctx, keys) {
    const filter = within('m.id', keys);
    return ids(ctx, `select m.id from (${missingSql(ctx)}) m where true${filter.sql} order by m.id`, filter.bindings);
  },
  async examples(ctx, keys) {
    const { accounts, acct } = names(ctx.schema);
    const found = await rows<{ id: number; invoice_number: string; account: string; snapshot: { email: string | null } }>(
      ctx,
      `select i.id, i.invoice_number, a.slug as account, ${snapshotSql(ctx, 'i')} as snapshot
         from ${INVOICES} i join ${accounts} a on a.id = i.${acct(INVOICES)}
        where i.id = any(?::bigint[]) order by i.id`,
      [keys],
    );
    return found.map((row) => ({
      key: `invoice:${row.id}`,
      account: row.account,
      invoice: row.invoice_number,
      change: `snapshot from the account (email ${row.snapshot?.email ?? 'none'}), backfilled`,
    }));
  },
  async apply(ctx, keys) {
    const set = hasSnapshotColumn(ctx)
      ? `billing_snapshot = src.snapshot`
      : `metadata = t.metadata || jsonb_build_object('billing_snapshot', src.snapshot)`;
    const written = await updateLogged(
      ctx,
      INVOICES,
      set,
      `select i.id, ${snapshotSql(ctx, 'i')} as snapshot from ${INVOICES} i where i.id = any(?::bigint[])`,
      [keys],
    );
    return { [INVOICES]: written };
  },
};
