// seed #1: paid signups crashed half way, leaving pending_payment accounts without the
// subscription, invoice or payment method registration should have created with them.
//
// Repair: each missing piece is created as registration creates it: a pending_payment
// subscription for one billing cycle of the account's plan, a pending invoice with one line
// item and the account's billing snapshot, a default payment method.
import { INVOICE_NUMBER_SEQUENCE } from '../domain/invoices.js';
import { billingIntervalSql } from '../domain/billing-cycle.js';
import { PAYMENT_METHODS_TABLE as METHODS } from '../domain/payment-methods.js';
import { insertLogged, tally } from '../repairs/log.js';
import { findingRows } from './finding.js';
import { billingSnapshotSql } from './invoice-billing-snapshot-missing.js';
import { insertPaymentMethods } from './payment-method-drift.js';
import type { SchemaInfo } from '../schema/inspect.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { RepairContext, Rule, TableCounts } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';
const INVOICES = 'igny8_invoices';

const PERIOD = billingIntervalSql('p');

async function sequenceExists(ctx: RepairContext): Promise<boolean> {
  const result = await ctx.trx.raw(`select to_regclass(?) is not null as present`, [INVOICE_NUMBER_SEQUENCE]);
  return result.rows[0].present === true;
}

/** The accounts `ids` with their plan and subscription (when they have one): what each piece is made from. */
function fromAccounts(schema: SchemaInfo): string {
  return `from ${schema.accountsTable} a join igny8_plans p on p.id = a.plan_id
          left join ${SUBSCRIPTIONS} s on s.${schema.accountColumn(SUBSCRIPTIONS)} = a.id
         where a.id = any(?::bigint[])`;
}

/** seed #1, #2: the one subscription model, for one billing cycle of the account's plan. */
async function createSubscriptions(ctx: RepairContext, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { schema } = ctx.shape;
  const method = schema.hasColumn(SUBSCRIPTIONS, 'payment_method');
  const accountMethod = schema.hasColumn(schema.accountsTable, 'payment_method');
  const plan = schema.hasColumn(SUBSCRIPTIONS, 'plan_id');
  return insertLogged(
    ctx,
    SUBSCRIPTIONS,
    `${schema.accountColumn(SUBSCRIPTIONS)}, status, current_period_start, current_period_end, cancel_at_period_end${method ? ', payment_method' : ''}${plan ? ', plan_id' : ''}`,
    `select a.id, 'pending_payment', now(), now() + ${PERIOD}, false
            ${method ? `, ${accountMethod ? 'a.payment_method' : `'stripe'`}` : ''}${plan ? ', a.plan_id' : ''}
       ${fromAccounts(schema)}`,
    [ids],
  );
}

/**
 * seed #6: a pending invoice with its line item and the account's billing snapshot. Numbers
 * come from the invoice number sequence where it exists; before it does, from the new
 * invoice's own id ('INV-R…'), which cannot collide with a sequence number.
 */
async function createInvoices(ctx: RepairContext, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { schema } = ctx.shape;
  const number = (await sequenceExists(ctx))
    ? `'INV-' || lpad(nextval('${INVOICE_NUMBER_SEQUENCE}')::text, 8, '0')`
    : `'INV-R' || lpad(n.id::text, 8, '0')`;
  const snapshotColumn = schema.hasColumn(INVOICES, 'billing_snapshot');
  const emailColumn = schema.hasColumn(INVOICES, 'billing_email');
  const snapshot = billingSnapshotSql(schema, 'n.account_id');
  return insertLogged(
    ctx,
    INVOICES,
    `id, ${schema.accountColumn(INVOICES)}, subscription_id, invoice_number, status, subtotal, tax, total, currency,
     invoice_date, due_date, line_items, metadata${snapshotColumn ? ', billing_snapshot' : ''}${emailColumn ? ', billing_email' : ''}`,
    `select n.id, n.account_id, n.subscription_id, ${number}, 'pending', n.price, 0, n.price, 'USD',
            current_date, current_date + 7,
            jsonb_build_array(jsonb_build_object(
              'description', n.plan_name || ' plan, ' || n.billing_cycle, 'plan', n.plan_slug, 'quantity', 1,
              'unit_price', n.price::text, 'amount', n.price::text,
              'period_start', n.period_start, 'period_end', n.period_end)),
            jsonb_build_object('source', 'repair', 'plan', n.plan_slug)
              ${snapshotColumn ? '' : `|| jsonb_build_object('billing_snapshot', ${snapshot})`}
            ${snapshotColumn ? `, ${snapshot}` : ''}${emailColumn ? `, ${snapshot}->>'email'` : ''}
       from (select nextval(pg_get_serial_sequence('${INVOICES}', 'id')) as id, a.id as account_id,
                    s.id as subscription_id, p.price, p.name as plan_name, p.slug as plan_slug, p.billing_cycle,
                    s.current_period_start as period_start, s.current_period_end as period_end
               ${fromAccounts(schema)}) n`,
    [ids],
  );
}

/** seed #8: the default payment method, of the kind the subscription (or the account) named. */
async function createPaymentMethods(ctx: RepairContext, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { schema } = ctx.shape;
  const kind = [
    schema.hasColumn(SUBSCRIPTIONS, 'payment_method') ? 's.payment_method' : null,
    schema.hasColumn(schema.accountsTable, 'payment_method') ? 'a.payment_method' : null,
    `'stripe'`,
  ]
    .filter(Boolean)
    .join(', ');
  return insertPaymentMethods(ctx, `(select a.id as account_id, coalesce(${kind}) as type, true as is_default ${fromAccounts(schema)}) v`, [ids]);
}

export const pendingPaymentIncomplete: Rule = {
  id: 'pending-payment-incomplete',
  severity: 'error',
  scope: 'account',
  title: 'pending_payment accounts missing their subscription, invoice or payment method',
  remedy: 'igny8 repair pending-payment-incomplete: create the missing pieces as registration would have',
  verdict(shape) {
    return missingTables(shape, SUBSCRIPTIONS, INVOICES, METHODS, shape.schema.accountsTable);
  },
  findings(shape, within) {
    const { schema } = shape;
    // Pending accounts are few: look their pieces up by index (one probe each) rather than
    // hashing three whole tables.
    const probe = (table: string, alias: string) =>
      `left join lateral (select true as present from ${table} x where x.${schema.accountColumn(table)} = a.id limit 1) ${alias} on true`;
    const batch = withinIds('a.id', within);
    return {
      sql: `select 'account:' || a.id as key, a.id as target, a.slug as account, a.id as sort, p.slug as plan,
                   array_to_string(array_remove(array[
                     case when hs.present is null then 'subscription' end,
                     case when hi.present is null then 'invoice' end,
                     case when hm.present is null then 'payment method' end], null), ', ') as missing,
                   hs.present is null as _no_subscription, hi.present is null as _no_invoice, hm.present is null as _no_method
              from ${schema.accountsTable} a
              left join igny8_plans p on p.id = a.plan_id
              ${probe(SUBSCRIPTIONS, 'hs')}
              ${probe(INVOICES, 'hi')}
              ${probe(METHODS, 'hm')}
             where a.status = 'pending_payment'
               and (hs.present is null or hi.present is null or hm.present is null)${scopeTo(shape, 'a.id')}${batch.sql}`,
      bindings: batch.bindings,
    };
  },
  repair: {
    action: 'create the missing subscription, invoice and default payment method as registration would have',
    table: (schema) => schema.accountsTable,
    change: (row) => `create ${String(row.missing)}`,
    async apply(ctx, keys) {
      const found = await findingRows(ctx.trx, pendingPaymentIncomplete.findings(ctx.shape, keys), keys.length);
      const lacking = (piece: string) => found.filter((row) => row[piece] === true).map((row) => Number(row.target));
      // In this order: an invoice names the subscription created before it.
      const counts: TableCounts = {};
      tally(counts, SUBSCRIPTIONS, await createSubscriptions(ctx, lacking('_no_subscription')));
      tally(counts, INVOICES, await createInvoices(ctx, lacking('_no_invoice')));
      tally(counts, METHODS, await createPaymentMethods(ctx, lacking('_no_method')));
      return counts;
    },
  },
};
