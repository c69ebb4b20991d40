// A paid invoice for a period (a signup's, a renewal's, a free account's first paid plan's)
// gives the account its plan's credits: one ledger row keyed by the invoice number, written
// by `invoice pay` in the payment's transaction. An invoice marked paid some other way (by
// hand, by the legacy application) lacks it.
//
// Repair: the keyed top-up `invoice pay` writes (src/domain/payments.ts), with the credit
// service's arithmetic (`toppedUp`, src/domain/credits.ts): the balance brought up to the
// plan's included credits, never reduced, one ledger row keyed by the invoice number (amount 0
// when the balance is there already), logged as repairs log.
import { toppedUp } from '../domain/credits.js';
import { PERIOD_INVOICE_SOURCES } from '../domain/payments.js';
import { tally } from '../repairs/log.js';
import { findingRows } from './finding.js';
import { insertLedgerRows, LEDGER, raiseBalances } from './ledger.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { FindingSql, Rule, Shape, TableCounts, TargetKey } from './types.js';

const INVOICES = 'igny8_invoices';
const MARKER = 'paid-invoice-credits-missing';

function findings(shape: Shape, within?: readonly TargetKey[]): FindingSql {
  const { schema } = shape;
  const batch = withinIds('i.id', within);
  const sources = PERIOD_INVOICE_SOURCES.map((source) => `'${source}'`).join(', ');
  return {
    sql: `select 'invoice:' || i.id as key, i.id as target, a.slug as account, i.id as sort,
                 i.invoice_number, i.metadata->>'source' as source, coalesce(mp.slug, ap.slug) as plan,
                 coalesce(mp.included_credits, ap.included_credits) as plan_credits, i.paid_at,
                 a.id as _account_id
            from ${INVOICES} i
            join ${schema.accountsTable} a on a.id = i.${schema.accountColumn(INVOICES)}
            join igny8_plans ap on ap.id = a.plan_id
            left join igny8_plans mp on mp.slug = i.metadata->>'plan'
           where i.status = 'paid' and i.metadata->>'source' in (${sources})
             and not exists (select 1 from ${LEDGER} l
                              where l.${schema.accountColumn(LEDGER)} = a.id and l.idempotency_key = i.invoice_number)${scopeTo(shape, 'a.id')}${scopeTo(shape, `i.${schema.accountColumn(INVOICES)}`)}${batch.sql}`,
    bindings: batch.bindings,
  };
}

export const paidInvoiceCreditsMissing: Rule = {
  id: 'paid-invoice-credits-missing',
  severity: 'error',
  scope: 'account',
  title: 'paid signup or renewal invoices whose credits were never granted',
  remedy: "igny8 repair paid-invoice-credits-missing: top the balance up to the plan's credits once, keyed by the invoice",
  verdict(shape) {
    const missing = missingTables(shape, INVOICES, LEDGER, 'igny8_plans', shape.schema.accountsTable);
    if (missing) return missing;
    if (!shape.schema.hasColumn(LEDGER, 'idempotency_key')) {
      return { kind: 'not-applicable', reason: `${LEDGER} has no idempotency_key yet: \`igny8 migrate\` adds it` };
    }
    return undefined;
  },
  findings,
  repair: {
    action: "top the balance up to the plan's included credits: one ledger row keyed by the invoice number",
    table: () => INVOICES,
    change: (row) => `credit invoice ${String(row.invoice_number)}: balance up to ${String(row.plan_credits)} (plan ${String(row.plan)})`,
    async apply(ctx, keys) {
      const { schema } = ctx.shape;
      const accounts = schema.accountsTable;
      const counts: TableCounts = {};
      const top = toppedUp('a.credits', 'x.target');
      let rows = await findingRows(ctx.trx, findings(ctx.shape, keys), keys.length);
      // One invoice per account at a time: each top-up reads the balance the previous one left.
      while (rows.length > 0) {
        const seen = new Set<number>();
        const round = rows.filter((row) => !seen.has(Number(row._account_id)) && seen.add(Number(row._account_id)));
        rows = rows.filter((row) => !round.includes(row));
        const batch = JSON.stringify(
          round.map((row) => ({ account_id: Number(row._account_id), target: Number(row.plan_credits), number: String(row.invoice_number) })),
        );
        const due = `jsonb_to_recordset(?::jsonb) as x(account_id bigint, target int, number text)`;
        await ctx.trx.raw(`select a.id from ${accounts} a join ${due} on x.account_id = a.id order by a.id for update of a`, [batch]);
        tally(
          counts,
          LEDGER,
          await insertLedgerRows(
            ctx,
            `select a.id as account_id, 'subscription' as transaction_type, ${top.amount} as amount,
                    ${top.balance} as balance_after, 'period credits: invoice ' || x.number as description,
                    jsonb_build_object('invoice', x.number, 'repair', '${MARKER}') as metadata, x.number as idempotency_key
               from ${due} join ${accounts} a on a.id = x.account_id`,
            [batch],
          ),
        );
        tally(
          counts,
          accounts,
          await raiseBalances(
            ctx,
            `select a.id, ${top.amount} as missing from ${due} join ${accounts} a on a.id = x.account_id where ${top.amount} > 0`,
            [batch],
          ),
        );
      }
      return counts;
    },
  },
};
