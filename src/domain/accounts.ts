// Looking accounts up by what people type (a slug, or a member's email), and the full view
// `igny8 account show` prints.
import type { Knex } from 'knex';
import { ValidationError } from '../errors.js';
import { readStatusHistory, type StatusChange } from './account-status.js';
import { readLedger, type LedgerEntry } from './credits.js';
import { effectiveSectorLimit } from './limits.js';
import { requireTargetSchema } from './target-schema.js';

export interface AccountRef {
  id: number;
  slug: string;
  name: string;
  status: string;
}

/** The account with this slug; `field` names the input in the error. */
export async function findAccountBySlug(
  knex: Knex | Knex.Transaction,
  slug: string,
  field = 'account',
): Promise<AccountRef> {
  const [account] = (await knex('igny8_accounts').where({ slug }).select('id', 'slug', 'name', 'status')) as AccountRef[];
  if (!account) throw new ValidationError(field, `no account with slug "${slug}"`);
  return account;
}

/** By slug, or (when it contains @) by the email of one of its users, ignoring case. */
export async function findAccount(knex: Knex | Knex.Transaction, key: string, field = 'account'): Promise<AccountRef> {
  if (!key.includes('@')) return findAccountBySlug(knex, key, field);
  const [account] = (await knex('igny8_accounts as a')
    .join('igny8_users as u', 'u.account_id', 'a.id')
    .whereRaw('lower(u.email) = lower(?)', [key])
    .select('a.id', 'a.slug', 'a.name', 'a.status')) as AccountRef[];
  if (!account) throw new ValidationError(field, `no user with email "${key}"`);
  return account;
}

export interface AccountView {
  account: {
    id: number;
    slug: string;
    name: string;
    status: string;
    credits: number;
    billingEmail: string | null;
    billingAddress: { line1: string | null; city: string | null; country: string | null };
    createdAt: Date;
  };
  plan: {
    slug: string;
    name: string;
    price: string;
    billingCycle: string;
    includedCredits: number;
    maxSites: number;
    maxUsers: number;
    /** null = unlimited. */
    maxSectorsPerSite: number | null;
  };
  users: Array<{
    id: number;
    email: string;
    name: string;
    role: string;
    isActive: boolean;
    /** When `user deactivate` deactivated the user (null: active, or deactivated before igny8 recorded it). */
    deactivatedAt: Date | null;
    dateJoined: Date;
    lastLogin: Date | null;
  }>;
  subscription: {
    id: number;
    plan: string;
    status: string;
    currentPeriodStart: Date;
    currentPeriodEnd: Date;
    cancelAtPeriodEnd: boolean;
    /** A plan change the billing run applies at the period's end. */
    scheduledPlan: string | null;
  } | null;
  /** Status changes, newest first (none before the history began). */
  statusHistory: StatusChange[];
  /** What the account owes: its open invoices (pending or overdue), oldest due first. */
  openInvoices: string[];
  invoices: Array<{
    id: number;
    number: string;
    status: string;
    total: string;
    currency: string;
    invoiceDate: string;
    dueDate: string;
    paidAt: Date | null;
    billingSnapshot: unknown;
    lineItems: unknown;
  }>;
  paymentMethods: Array<{ id: number; type: string; displayName: string; isDefault: boolean; isEnabled: boolean; isVerified: boolean }>;
  sites: Array<{ id: number; slug: string; name: string; domain: string | null; industry: string; sectors: number; status: string }>;
  balance: number;
  ledger: LedgerEntry[];
}

// Rows read for display; the view below gives them their types.
type Row = Record<string, any>;

/** Everything about one account; `ledgerRows` newest ledger entries. Reads only. */
export async function showAccount(knex: Knex, key: string, ledgerRows = 10): Promise<AccountView> {
  await requireTargetSchema(knex);
  const ref = await findAccount(knex, key);
  // One snapshot for every read: repeatable read inside a read-only transaction.
  return knex.transaction(
    async (trx) => {
      const [a] = (await trx('igny8_accounts as a')
        .join('igny8_plans as p', 'p.id', 'a.plan_id')
        .where('a.id', ref.id)
        .select(
          'a.*',
          'p.slug as plan_slug',
          'p.name as plan_name',
          'p.price as plan_price',
          'p.billing_cycle as plan_cycle',
          'p.included_credits as plan_credits',
          'p.max_sites as plan_max_sites',
          'p.max_users as plan_max_users',
          'p.max_sectors_per_site as plan_max_sectors',
        )) as Row[];
      const users = (await trx('igny8_users')
        .where('account_id', ref.id)
        .orderBy('id')
        .select('id', 'email', 'first_name', 'last_name', 'role', 'is_active', 'deactivated_at', 'date_joined', 'last_login')) as Row[];
      const [subscription] = (await trx('igny8_subscriptions as s')
        .join('igny8_plans as p', 'p.id', 's.plan_id')
        .where('s.account_id', ref.id)
        .select('s.*', 'p.slug as plan_slug')) as Row[];
      const scheduled =
        subscription?.scheduled_plan_id == null
          ? null
          : ((await trx('igny8_plans').where('id', subscription.scheduled_plan_id).first('slug')) as { slug: string }).slug;
      const statusHistory = await readStatusHistory(trx, ref.id);
      const invoices = (await trx('igny8_invoices').where('account_id', ref.id).orderBy('id', 'desc').select('*')) as Row[];
      const methods = (await trx('igny8_account_payment_methods').where('account_id', ref.id).orderBy('id').select('*')) as Row[];
      const sites = (await trx('igny8_sites as s')
        .join('igny8_industries as i', 'i.id', 's.industry_id')
        .where('s.account_id', ref.id)
        .orderBy('s.id')
        .select(
          's.id',
          's.slug',
          's.name',
          's.domain',
          's.status',
          'i.slug as industry',
          trx.raw('(select count(*) from igny8_sectors x where x.site_id = s.id) as sectors'),
        )) as Row[];
      const ledger = await readLedger(trx, ref.id, ledgerRows);
      return {
        account: {
          id: a.id,
          slug: a.slug,
          name: a.name,
          status: a.status,
          credits: a.credits,
          billingEmail: a.billing_email,
          billingAddress: { line1: a.billing_address_line1, city: a.billing_city, country: a.billing_country },
          createdAt: a.created_at,
        },
        plan: {
          slug: a.plan_slug,
          name: a.plan_name,
          price: a.plan_price,
          billingCycle: a.plan_cycle,
          includedCredits: a.plan_credits,
          maxSites: a.plan_max_sites,
          maxUsers: a.plan_max_users,
          maxSectorsPerSite: effectiveSectorLimit(a.plan_max_sectors),
        },
        users: users.map((u) => ({
          id: u.id,
          email: u.email,
          name: `${u.first_name} ${u.last_name}`.trim(),
          role: u.role,
          isActive: u.is_active,
          deactivatedAt: u.deactivated_at ?? null,
          dateJoined: u.date_joined,
          lastLogin: u.last_login,
        })),
        subscription: subscription
          ? {
              id: subscription.id,
              plan: subscription.plan_slug,
              status: subscription.status,
              currentPeriodStart: subscription.current_period_start,
              currentPeriodEnd: subscription.current_period_end,
              cancelAtPeriodEnd: subscription.cancel_at_period_end,
              scheduledPlan: scheduled,
            }
          : null,
        statusHistory,
        openInvoices: invoices
          .filter((i) => i.status === 'pending' || i.status === 'overdue')
          .sort((x, y) => String(x.due_date).localeCompare(String(y.due_date)) || x.id - y.id)
          .map((i) => i.invoice_number as string),
        invoices: invoices.map((i) => ({
          id: i.id,
          number: i.invoice_number,
          status: i.status,
          total: i.total,
          currency: i.currency,
          invoiceDate: i.invoice_date,
          dueDate: i.due_date,
          paidAt: i.paid_at,
          billingSnapshot: i.billing_snapshot,
          lineItems: i.line_items,
        })),
        paymentMethods: methods.map((m) => ({
          id: m.id,
          type: m.type,
          displayName: m.display_name,
          isDefault: m.is_default,
          isEnabled: m.is_enabled,
          isVerified: m.is_verified,
        })),
        sites: sites.map((s) => ({
          id: s.id,
          slug: s.slug,
          name: s.name,
          domain: s.domain,
          industry: s.industry,
          sectors: Number(s.sectors),
          status: s.status,
        })),
        balance: a.credits,
        ledger,
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
