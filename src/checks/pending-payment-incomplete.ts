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
    // Pending accounts are few: look their pieces up by index (one probe each) rather than
    // hashing three whole tables.
    const probe = (table: string, alias: string) =>
      `left join lateral (select true as present from ${table} x where x.${schema.accountColumn(table)} = a.id limit 1) ${alias} on true`;
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort, p.slug as plan,
                   array_to_string(array_remove(array[
                     case when hs.present is null then 'subscription' end,
                     case when hi.present is null then 'invoice' end,
                     case when hm.present is null then 'payment method' end], null), ', ') as missing
              from ${accounts} a
              left join igny8_plans p on p.id = a.plan_id
              ${probe(tables[0], 'hs')}
              ${probe(tables[1], 'hi')}
              ${probe(tables[2], 'hm')}
             where a.status = 'pending_payment'
               and (hs.present is null or hi.present is null or hm.present is null)${scopeTo(ctx, 'a.id')}`,
    });
  },
};
