// seed #1: paid signups crashed half way, leaving pending_payment accounts without the
// subscription, invoice or payment method registration should have created with them.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const pendingPaymentIncomplete: Check = {
  id: 'pending-payment-incomplete',
  severity: 'error',
  title: 'pending_payment accounts missing their subscription, invoice or payment method',
  remedy: 'igny8 repair pending-payment-incomplete: create the missing pieces as registration would have',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const tables = ['igny8_subscriptions', 'igny8_invoices', 'igny8_account_payment_methods'] as const;
    const missing = missingTables(ctx, ...tables, accounts);
    if (missing) return missing;
    const [subscriptions, invoices, methods] = tables.map((table) => `${table} x where x.${schema.accountColumn(table)} = a.id`);
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort, p.slug as plan,
                   array_to_string(array_remove(array[
                     case when not h.subscription then 'subscription' end,
                     case when not h.invoice then 'invoice' end,
                     case when not h.payment_method then 'payment method' end], null), ', ') as missing
              from ${accounts} a
              left join igny8_plans p on p.id = a.plan_id
              cross join lateral (select exists (select 1 from ${subscriptions}) as subscription,
                                         exists (select 1 from ${invoices}) as invoice,
                                         exists (select 1 from ${methods}) as payment_method) h
             where a.status = 'pending_payment'
               and not (h.subscription and h.invoice and h.payment_method)${scopeTo(ctx, 'a.id')}`,
    });
  },
};
