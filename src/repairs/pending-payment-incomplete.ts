// seed #1: paid signups crashed half-way, leaving pending_payment accounts without their
// subscription, invoice or payment method. Each missing piece is created as registration
// creates it: a pending_payment subscription for one billing cycle of the account's plan, a
// pending invoice with one line item and a billing snapshot, a default payment method.
import { PAYMENT_METHOD_LABELS } from '../domain/payment-methods.js';
import { accountSnapshotSql } from './invoice-billing-snapshot-missing.js';
import { insertLogged, tally } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext, RepairKey, TableCounts } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';
const INVOICES = 'igny8_invoices';
const METHODS = 'igny8_account_payment_methods';
const INVOICE_NUMBER_SEQUENCE = 'igny8_invoice_number_seq';

function has(ctx: RepairContext, table: string): string {
  return `exists (select 1 from ${table} x where x.${names(ctx.schema).acct(table)} = a.id)`;
}

function incompleteSql(ctx: RepairContext): string {
  const { accounts } = names(ctx.schema);
  return `select a.id, a.slug,
                 ${has(ctx, SUBSCRIPTIONS)} as has_subscription,
                 ${has(ctx, INVOICES)} as has_invoice,
                 ${has(ctx, METHODS)} as has_method
            from ${accounts} a
           where a.status = 'pending_payment'
             and not (${has(ctx, SUBSCRIPTIONS)} and ${has(ctx, INVOICES)} and ${has(ctx, METHODS)})${inScope(ctx, 'a.id')}`;
}

const PERIOD = `case when p.billing_cycle in ('yearly', 'annual') then interval '1 year' else interval '1 month' end`;

async function sequenceExists(ctx: RepairContext): Promise<boolean> {
  const [row] = await rows<{ present: boolean }>(ctx, `select to_regclass(?) is not null as present`, [INVOICE_NUMBER_SEQUENCE]);
  return row.present === true;
}

export const pendingPaymentIncomplete: Repair = {
  checkId: 'pending-payment-incomplete',
  action: 'create the missing subscription, invoice and default payment method as registration would have',
  table: (schema) => schema.accountsTable,
  async targets(ctx, keys) {
    const filter = within('f.id', keys);
    return ids(ctx, `select f.id from (${incompleteSql(ctx)}) f where true${filter.sql} order by f.id`, filter.bindings);
  },
  async examples(ctx, keys) {
    const found = await rows<{ id: number; slug: string; has_subscription: boolean; has_invoice: boolean; has_method: boolean }>(
      ctx,
      `select f.* from (${incompleteSql(ctx)}) f where f.id = any(?::bigint[]) order by f.id`,
      [keys],
    );
    return found.map((row) => ({
      key: `account:${row.id}`,
      account: row.slug,
      change: `create ${[
        row.has_subscription ? null : 'subscription',
        row.has_invoice ? null : 'invoice',
        row.has_method ? null : 'payment method',
      ]
        .filter(Boolean)
        .join(', ')}`,
    }));
  },
  async apply(ctx, keys: RepairKey[]) {
    const { accounts, acct } = names(ctx.schema);
    const counts: TableCounts = {};
    const subCol = acct(SUBSCRIPTIONS);
    const accountMethod = ctx.schema.hasColumn(accounts, 'payment_method');
    const subscriptionMethod = ctx.schema.hasColumn(SUBSCRIPTIONS, 'payment_method');
    const subscriptionPlan = ctx.schema.hasColumn(SUBSCRIPTIONS, 'plan_id');
    const target = `from ${accounts} a join igny8_plans p on p.id = a.plan_id
                   where a.id = any(?::bigint[]) and a.status = 'pending_payment'`;

    // seed #1, #2: the one subscription model, for one billing cycle of the account's plan.
    tally(
      counts,
      SUBSCRIPTIONS,
      await insertLogged(
        ctx,
        SUBSCRIPTIONS,
        `${subCol}, status, current_period_start, current_period_end, cancel_at_period_end${subscriptionMethod ? ', payment_method' : ''}${subscriptionPlan ? ', plan_id' : ''}`,
        `select a.id, 'pending_payment', now(), now() + ${PERIOD}, false
                ${subscriptionMethod ? `, ${accountMethod ? 'a.payment_method' : `'stripe'`}` : ''}${subscriptionPlan ? ', a.plan_id' : ''}
         ${target} and not ${has(ctx, SUBSCRIPTIONS)}`,
        [keys],
      ),
    );

    // seed #6: a pending invoice with its line item and the account's billing snapshot. Numbers
    // come from the invoice number sequence where it exists; before it does, from the new
    // invoice's own id ('INV-R…'), which cannot collide with a sequence number.
    const sequence = await sequenceExists(ctx);
    const number = sequence
      ? `'INV-' || lpad(nextval('${INVOICE_NUMBER_SEQUENCE}')::text, 8, '0')`
      : `'INV-R' || lpad(n.id::text, 8, '0')`;
    const snapshotColumn = ctx.schema.hasColumn(INVOICES, 'billing_snapshot');
    const emailColumn = ctx.schema.hasColumn(INVOICES, 'billing_email');
    const snapshot = accountSnapshotSql(ctx, 'n.account_id', false);
    const invCol = acct(INVOICES);
    tally(
      counts,
      INVOICES,
      await insertLogged(
        ctx,
        INVOICES,
        `id, ${invCol}, subscription_id, invoice_number, status, subtotal, tax, total, currency,
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
                   ${target.replace('where', `left join ${SUBSCRIPTIONS} s on s.${subCol} = a.id where`)}
                    and not ${has(ctx, INVOICES)}) n`,
        [keys],
      ),
    );

    // seed #8: the default payment method, of the kind the account (or its subscription) named.
    const kind = [subscriptionMethod ? 's.payment_method' : null, accountMethod ? 'a.payment_method' : null, `'stripe'`]
      .filter(Boolean)
      .join(', ');
    const labels = JSON.stringify(PAYMENT_METHOD_LABELS);
    const methodCol = acct(METHODS);
    tally(
      counts,
      METHODS,
      await insertLogged(
        ctx,
        METHODS,
        `${methodCol}, type, display_name, is_default, is_enabled, is_verified, instructions, metadata`,
        `select k.account_id, k.type, coalesce(?::jsonb->>k.type, k.type), true, true, false, '', '{"source": "repair"}'::jsonb
           from (select a.id as account_id, coalesce(${kind}) as type
                   ${target.replace('where', `left join ${SUBSCRIPTIONS} s on s.${subCol} = a.id where`)}
                    and not ${has(ctx, METHODS)}) k`,
        [labels, keys],
      ),
    );
    return counts;
  },
};
