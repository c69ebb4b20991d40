// How the domain commands' results look to a person. --json prints the result objects
// themselves; these lines never include a password or a hash (none is ever returned).
import type { AccountView } from '../domain/accounts.js';
import type { AccountCreditResult } from '../domain/credit-operations.js';
import type { BillingRunResult } from '../domain/billing-run.js';
import type { InvoiceOutcome } from '../domain/payments.js';
import type { PlanChangeResult } from '../domain/plan-change.js';
import type { Registration } from '../domain/register.js';
import type { CreatedSector } from '../domain/sectors.js';
import type { CreatedSite } from '../domain/sites.js';
import { renderTable } from './table.js';
import { plural, wrapText } from './text.js';

function day(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
}

function when(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return value instanceof Date ? value.toISOString().replace('T', ' ').slice(0, 19) : String(value);
}

function field(label: string, value: string): string {
  return `  ${label.padEnd(14)}${value}`;
}

export function renderRegistration(r: Registration): string[] {
  const lines = [
    `registered account "${r.account.slug}" (${r.account.name}) on plan ${r.plan.slug}: ${r.account.status}`,
    field('owner', `${r.user.email} (user ${r.user.id})`),
    field('billing email', r.account.billingEmail),
  ];
  if (r.signupCredits) {
    lines.push(field('credits', `${r.account.credits} (ledger entry ${r.signupCredits.id}: ${r.signupCredits.description})`));
  }
  if (r.subscription) {
    lines.push(
      field(
        'subscription',
        `${r.subscription.id}, ${r.subscription.status}, ${day(r.subscription.currentPeriodStart)} → ${day(r.subscription.currentPeriodEnd)}`,
      ),
    );
  }
  if (r.invoice) {
    lines.push(
      field('invoice', `${r.invoice.number}, ${r.invoice.status}, ${r.invoice.total} ${r.invoice.currency}, due ${day(r.invoice.dueDate)}`),
    );
  }
  if (r.paymentMethod) {
    lines.push(
      field('payment', `${r.paymentMethod.displayName} (${r.paymentMethod.type}, default${r.paymentMethod.isVerified ? '' : ', not verified yet'})`),
    );
  }
  if (r.invoice) lines.push(`the account becomes active once invoice ${r.invoice.number} is paid`);
  lines.push(`next: igny8 create-site --account ${r.account.slug} --name NAME --domain DOMAIN --industry SLUG`);
  return lines;
}

export function renderCreatedSite(site: CreatedSite): string[] {
  return [
    `created site "${site.slug}" (${site.name}, id ${site.id}) in account "${site.account.slug}"`,
    field('domain', site.domain),
    field('industry', `${site.industry.slug} (${site.industry.name})`),
    field('access', site.access.map((user) => `${user.email} (${user.role})`).join(', ')),
    field('sites', `${site.sites} of ${site.maxSites === 0 ? 'unlimited' : site.maxSites}`),
  ];
}

export function renderCreatedSector(sector: CreatedSector): string[] {
  return [
    `created sector "${sector.slug}" (${sector.name}, id ${sector.id}) on site "${sector.site.slug}" of account "${sector.account.slug}"`,
    field('industry', `${sector.industrySector.industry}/${sector.industrySector.slug}`),
    field('sectors', `${sector.sectors} of ${sector.maxSectorsPerSite === null ? 'unlimited' : sector.maxSectorsPerSite}`),
  ];
}

export function renderCreditResult(result: AccountCreditResult): string[] {
  const entry = result.entry;
  if (result.replayed) {
    return [
      `already ${entry.amount >= 0 ? 'granted' : 'debited'}: idempotency key "${entry.idempotencyKey}" is ledger entry ${entry.id} (${plural(entry.amount, 'credit')}, ${when(entry.createdAt)}); nothing changed`,
      field('balance', String(result.balance)),
    ];
  }
  return [
    `${entry.amount >= 0 ? 'granted' : 'debited'} ${plural(Math.abs(entry.amount), 'credit')} ${entry.amount >= 0 ? 'to' : 'from'} account "${result.account.slug}" (ledger entry ${entry.id}, ${entry.type})`,
    field('balance', String(result.balance)),
  ];
}

export function renderInvoiceOutcome(result: InvoiceOutcome, action: 'pay' | 'void'): string[] {
  const i = result.invoice;
  const lines: string[] = [];
  if (result.replayed) {
    lines.push(
      action === 'pay'
        ? `invoice ${i.number} was paid already${i.paidAt ? ` (${when(i.paidAt)})` : ''}; nothing changed`
        : `invoice ${i.number} was void already; nothing changed`,
    );
  } else {
    lines.push(
      action === 'pay'
        ? `invoice ${i.number} paid: ${i.total} ${i.currency}${i.reference ? `, reference "${i.reference}"` : ''}`
        : `invoice ${i.number} voided (${i.total} ${i.currency})`,
    );
  }
  const change = (from: string, to: string) => (from === to ? to : `${from} → ${to}`);
  lines.push(field('account', `"${result.account.slug}": ${change(result.account.previousStatus, result.account.status)}`));
  if (result.subscription) {
    lines.push(field('subscription', `${result.subscription.id}: ${change(result.subscription.previousStatus, result.subscription.status)}`));
  }
  if (result.credits) {
    const e = result.credits.entry;
    lines.push(field('credits', `+${e.amount} (ledger entry ${e.id}, key ${e.idempotencyKey}); balance ${result.credits.balance}`));
  }
  return lines;
}

export function renderBillingRun(result: BillingRunResult): string[] {
  const c = result.counts;
  const lines = [
    `${result.dryRun ? 'billing run (dry run: nothing changed)' : `billing run ${result.runId}`} as of ${when(result.asOf)} UTC, grace ${plural(result.graceDays, 'day')}`,
    field('plan changes', `${c.planChanges} scheduled change(s) applied, ${c.cancellations} cancellation(s)`),
    field('renewals', `${plural(c.renewals, 'period')} renewed, ${plural(c.renewalInvoices, 'invoice')} issued`),
    field('credits', `${plural(c.monthlyCredits, 'free account')} credited for the month, ${plural(c.creditsGranted, 'credit')} in all`),
    field('overdue', `${plural(c.overdueInvoices, 'invoice')} overdue, ${plural(c.pastDueSubscriptions, 'subscription')} past due`),
    field('suspended', plural(c.suspendedAccounts, 'account')),
  ];
  if (!result.dryRun) lines.push(field('ran by', `${result.ranBy} (igny8 ${result.igny8Version})`));
  return lines;
}

export function renderPlanChange(result: PlanChangeResult): string[] {
  const prefix = result.dryRun ? 'dry run, nothing changed: would ' : '';
  const a = result.account;
  const head =
    result.kind === 'cancel-scheduled'
      ? `${prefix}${result.dryRun ? 'cancel' : 'cancelled'} the scheduled plan change of account "${a.slug}": it stays on ${result.to.slug}`
      : result.at === 'now'
        ? `${prefix}${result.dryRun ? 'move' : 'moved'} account "${a.slug}" from ${result.from.slug} to ${result.to.slug} (${result.kind}, now)`
        : `${prefix}${result.dryRun ? 'schedule' : 'scheduled'} the ${result.kind} of account "${a.slug}" from ${result.from.slug} to ${result.to.slug} for ${when(result.effectiveAt)} UTC (period end)`;
  const lines = [head];
  if (a.status !== a.previousStatus) lines.push(field('account', `${a.previousStatus} → ${a.status}`));
  if (result.subscription) {
    const s = result.subscription;
    lines.push(field('subscription', `${s.id}: plan ${s.plan}, ${s.status}${s.scheduledPlan ? `, becomes ${s.scheduledPlan} at ${when(s.currentPeriodEnd)} UTC` : ''}`));
  }
  if (result.invoice) {
    const i = result.invoice;
    const prorated = result.prorationFactor === undefined ? '' : `, prorated for ${(result.prorationFactor * 100).toFixed(1)}% of the period`;
    lines.push(field('invoice', `${i.number}, ${i.total} ${i.currency}${prorated}, due ${day(i.dueDate)}`));
    if (!result.dryRun) lines.push(`credits follow when it is paid: igny8 invoice pay ${i.number}`);
  }
  return lines;
}

export function renderAccount(view: AccountView, width: number): string[] {
  const table = (head: string[], rows: Parameters<typeof renderTable>[1]) => renderTable(head, rows, { width });
  const a = view.account;
  const address = [a.billingAddress.line1, a.billingAddress.city, a.billingAddress.country].filter(Boolean).join(', ');
  const header = [
    `account "${a.slug}" (${a.name}, id ${a.id}): ${a.status}`,
    field('plan', `${view.plan.slug} (${view.plan.name}, ${view.plan.price}/${view.plan.billingCycle})`),
    field(
      'limits',
      `sites ${view.plan.maxSites || 'unlimited'}, users ${view.plan.maxUsers || 'unlimited'}, sectors/site ${view.plan.maxSectorsPerSite ?? 'unlimited'}`,
    ),
    field('balance', plural(view.balance, 'credit')),
    ...(view.openInvoices.length > 0 ? [field('to pay', `${view.openInvoices.join(', ')} (igny8 invoice pay NUMBER)`)] : []),
    field('billing', `${a.billingEmail ?? '(no billing email)'}${address ? `; ${address}` : ''}`),
    field('created', when(a.createdAt)),
  ];
  // Field values wrap under themselves, past the label column.
  const lines = [
    ...wrapText(header[0], width),
    ...header.slice(1).flatMap((line) => wrapText(line, width, { hang: ' '.repeat(16) })),
  ];
  lines.push(
    '',
    'users',
    table(
      ['id', 'email', 'name', 'role', 'active', 'joined'],
      view.users.map((u) => [u.id, u.email, u.name, u.role, u.isActive ? 'yes' : u.deactivatedAt ? `no, since ${day(u.deactivatedAt)}` : 'no', day(u.dateJoined)]),
    ),
  );
  lines.push('', 'subscription');
  lines.push(
    ...wrapText(
      view.subscription
        ? `  ${view.subscription.id}: plan ${view.subscription.plan}, ${view.subscription.status}, ${day(view.subscription.currentPeriodStart)} → ${day(view.subscription.currentPeriodEnd)}${view.subscription.cancelAtPeriodEnd ? ', cancels at period end' : ''}${view.subscription.scheduledPlan ? `, becomes ${view.subscription.scheduledPlan} at period end` : ''}`
        : '  none',
      width,
    ),
  );
  lines.push('', 'invoices');
  lines.push(
    view.invoices.length === 0
      ? '  none'
      : table(
          ['number', 'status', 'total', 'date', 'due', 'paid', 'billed to'],
          view.invoices.map((i) => [
            i.number,
            i.status,
            `${i.total} ${i.currency}`,
            day(i.invoiceDate),
            day(i.dueDate),
            day(i.paidAt),
            String((i.billingSnapshot as { email?: string } | null)?.email ?? ''),
          ]),
        ),
  );
  lines.push('', 'payment methods');
  lines.push(
    view.paymentMethods.length === 0
      ? '  none'
      : table(
          ['id', 'type', 'name', 'default', 'enabled', 'verified'],
          view.paymentMethods.map((m) => [m.id, m.type, m.displayName, m.isDefault ? 'yes' : '', m.isEnabled ? 'yes' : 'no', m.isVerified ? 'yes' : 'no']),
        ),
  );
  lines.push('', 'sites');
  lines.push(
    view.sites.length === 0
      ? '  none'
      : table(
          ['id', 'slug', 'name', 'domain', 'industry', 'sectors', 'status'],
          view.sites.map((s) => [s.id, s.slug, s.name, s.domain, s.industry, s.sectors, s.status]),
        ),
  );
  lines.push('', 'status history');
  lines.push(
    view.statusHistory.length === 0
      ? '  none recorded'
      : table(
          ['when', 'from', 'to', 'why'],
          view.statusHistory.map((h) => [when(h.changedAt), h.fromStatus ?? '(created)', h.toStatus, h.reason ?? '']),
        ),
  );
  lines.push('', `ledger (last ${view.ledger.length})`);
  lines.push(
    view.ledger.length === 0
      ? '  none'
      : table(
          ['id', 'when', 'type', 'amount', 'balance after', 'description', 'key'],
          view.ledger.map((e) => [e.id, when(e.createdAt), e.type, e.amount, e.balanceAfter, e.description, e.idempotencyKey]),
        ),
  );
  return lines;
}
