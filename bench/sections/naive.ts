// The naive baseline: one plain statement per check on the legacy shape, as a careful DBA
// writes it by hand from the rule's definition: joins and group-bys over the tables, no
// planner settings, no probing, no sharing. Each returns the check's count; the bench runs
// them on one connection in one snapshot (the same per-transaction work_mem and JIT setting
// the audit takes) and requires every count to equal the audit's.
import pg from 'pg';
import { loadCatalog } from '../../src/domain/catalog.js';
import { LEGACY_DEFAULT_SECTOR_LIMIT } from '../../src/domain/limits.js';
import { driftedPlansSql } from '../../src/rules/plan-catalog.js';
import { plaintextSecretSql } from '../../src/rules/plaintext-credentials.js';
import type { BenchContext } from '../context.js';
import type { BenchDatabase } from '../postgres.js';
import { median } from '../result.js';
import type { AuditReport } from './audit.js';

export interface NaiveCheck {
  id: string;
  sql: string;
  bindings?: unknown[];
}

/** A limit as the plans store it: 0 is unlimited. */
const over = (count: string, limit: string) => `(${limit} <> 0 and ${count} > ${limit})`;

export function naiveChecks(): NaiveCheck[] {
  const catalog = loadCatalog();
  const freeCredits = catalog.plans.find((plan) => plan.slug === 'free')?.included_credits ?? 0;
  const drifted = driftedPlansSql('max_industries', catalog.plans);
  const correction = `coalesce(metadata->>'repair' = 'signup-credit-shortfall'
                               or metadata->>'idempotency_key' = 'signup-credit-shortfall:' || tenant_id, false)`;
  return [
    { id: 'orphan-users', sql: `select count(*) from igny8_users where tenant_id is null` },
    {
      id: 'account-without-owner',
      sql: `select count(*) from igny8_tenants a
              left join (select tenant_id, count(*) as owners from igny8_users where role = 'owner' group by tenant_id) o
                on o.tenant_id = a.id
              left join igny8_users n on n.id = a.owner_id
             where o.owners is null or n.tenant_id <> a.id`,
    },
    {
      id: 'multiple-owners',
      sql: `select count(*) from (select tenant_id from igny8_users where role = 'owner' and tenant_id is not null
                                   group by tenant_id having count(*) > 1) x`,
    },
    {
      id: 'owner-role-mismatch',
      sql: `select count(*) from igny8_tenants a
              join igny8_users n on n.id = a.owner_id and n.tenant_id = a.id
              join (select tenant_id from igny8_users where role = 'owner' group by tenant_id) o on o.tenant_id = a.id
             where n.role <> 'owner'`,
    },
    {
      id: 'duplicate-emails',
      sql: `select count(*) from (select lower(email) from igny8_users group by lower(email) having count(*) > 1) x`,
    },
    { id: 'site-industry-null', sql: `select count(*) from igny8_sites where industry_id is null` },
    {
      id: 'sector-industry-mismatch',
      sql: `select count(*) from igny8_sectors se
              join igny8_sites si on si.id = se.site_id
              join igny8_industry_sectors i on i.id = se.industry_sector_id
             where i.industry_id <> si.industry_id`,
    },
    {
      id: 'sector-limit-exceeded',
      sql: `select count(*) from (select site_id, count(*) as sectors from igny8_sectors group by site_id) c
              join igny8_sites s on s.id = c.site_id
              join igny8_tenants a on a.id = s.tenant_id
              join igny8_plans p on p.id = a.plan_id
             where ${over('c.sectors', `coalesce(p.max_industries, ${LEGACY_DEFAULT_SECTOR_LIMIT})`)}`,
    },
    {
      id: 'site-limit-exceeded',
      sql: `select count(*) from igny8_tenants a
              join igny8_plans p on p.id = a.plan_id
              left join (select tenant_id, count(*) as sites from igny8_sites group by tenant_id) s on s.tenant_id = a.id
              left join (select tenant_id, count(*) as users from igny8_users group by tenant_id) u on u.tenant_id = a.id
             where ${over('coalesce(s.sites, 0)', 'p.max_sites')} or ${over('coalesce(u.users, 0)', 'p.max_users')}`,
    },
    { id: 'plan-catalog-drift', sql: `select count(*) from (${drifted.sql}) d`, bindings: [drifted.binding] },
    {
      id: 'credit-balance-drift',
      sql: `select count(*) from igny8_tenants a
              left join (select tenant_id, sum(amount) as total from igny8_credit_transactions group by tenant_id) l
                on l.tenant_id = a.id
              left join (select distinct on (tenant_id) tenant_id, balance_after from igny8_credit_transactions
                          order by tenant_id, id desc) last on last.tenant_id = a.id
             where a.credits <> coalesce(l.total, 0) or a.credits <> last.balance_after`,
    },
    {
      id: 'ledger-chain-broken',
      sql: `select count(*) from (select balance_after, amount,
                                         coalesce(lag(balance_after) over (partition by tenant_id order by id), 0) as previous
                                    from igny8_credit_transactions) l
             where l.balance_after <> l.previous + l.amount`,
    },
    {
      id: 'ledger-negative-balance',
      sql: `select count(*) from igny8_credit_transactions where balance_after < 0`,
    },
    {
      id: 'signup-credit-shortfall',
      sql: `select count(*) from igny8_tenants a
              join igny8_plans p on p.id = a.plan_id and p.slug = 'free'
              left join (select distinct on (tenant_id) tenant_id, amount from igny8_credit_transactions
                          where amount > 0 and not ${correction} order by tenant_id, id) f on f.tenant_id = a.id
              left join (select tenant_id, sum(amount) as total from igny8_credit_transactions
                          where ${correction} group by tenant_id) c on c.tenant_id = a.id
             where coalesce(f.amount, 0) + coalesce(c.total, 0) < ${freeCredits}`,
    },
    {
      id: 'payment-method-drift',
      sql: `select count(*) from igny8_tenants a
              left join igny8_subscriptions s on s.tenant_id = a.id
              left join (select tenant_id, count(*) as defaults, min(type) as type from igny8_account_payment_methods
                          where is_default group by tenant_id) d on d.tenant_id = a.id
             where d.defaults > 1
                or (s.id is not null and d.defaults is null)
                or s.payment_method <> a.payment_method
                or (d.defaults = 1 and d.type <> a.payment_method)`,
    },
    {
      id: 'pending-payment-incomplete',
      sql: `select count(*) from igny8_tenants a
              left join (select distinct tenant_id from igny8_subscriptions) s on s.tenant_id = a.id
              left join (select distinct tenant_id from igny8_invoices) i on i.tenant_id = a.id
              left join (select distinct tenant_id from igny8_account_payment_methods) m on m.tenant_id = a.id
             where a.status = 'pending_payment' and (s.tenant_id is null or i.tenant_id is null or m.tenant_id is null)`,
    },
    {
      id: 'invoice-billing-snapshot-missing',
      sql: `select count(*) from igny8_invoices
             where coalesce(billing_email, '') = '' and metadata->'billing_snapshot' is null`,
    },
    {
      id: 'site-access-missing',
      sql: `select count(distinct s.id) from igny8_sites s
              join igny8_users u on u.tenant_id = s.tenant_id and u.role = 'owner'
              left join igny8_site_user_access x on x.site_id = s.id and x.user_id = u.id
             where x.id is null`,
    },
    {
      id: 'plaintext-credentials',
      sql: `select (select count(*) from igny8_sites where coalesce(wp_app_password, '') <> '' or coalesce(wp_api_key, '') <> '')
                 + (select count(*) from igny8_site_integrations i
                     where jsonb_typeof(i.credentials_json) = 'object'
                       and exists (select 1 from jsonb_each(i.credentials_json) e where ${plaintextSecretSql('e')}))`,
    },
    {
      id: 'cross-tenant-reference',
      sql: `select (select count(*) from igny8_sectors r join igny8_sites s on s.id = r.site_id where r.tenant_id <> s.tenant_id)
                 + (select count(*) from igny8_site_integrations r join igny8_sites s on s.id = r.site_id where r.tenant_id <> s.tenant_id)
                 + (select count(*) from igny8_invoices r join igny8_subscriptions s on s.id = r.subscription_id where r.tenant_id <> s.tenant_id)
                 + (select count(*) from igny8_site_user_access r join igny8_users u on u.id = r.user_id
                      join igny8_sites s on s.id = r.site_id where u.tenant_id <> s.tenant_id)`,
    },
  ];
}

export interface NaivePass {
  totalMs: number;
  checks: Array<{ id: string; ms: number; count: number }>;
}

/** One pass: every naive statement in turn, on one connection, in one snapshot. */
export async function naivePass(url: string): Promise<NaivePass> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read');
    await client.query(`select set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`);
    const checks: NaivePass['checks'] = [];
    const started = performance.now();
    for (const check of naiveChecks()) {
      const begun = performance.now();
      // the catalog comparison's one binding comes as knex's `?`
      const sql = check.bindings ? check.sql.replace('cast(? as jsonb)', 'cast($1 as jsonb)') : check.sql;
      const result = await client.query<{ count: string }>(sql, check.bindings ?? []);
      checks.push({ id: check.id, ms: performance.now() - begun, count: Number(Object.values(result.rows[0])[0]) });
    }
    const totalMs = performance.now() - started;
    await client.query('commit');
    return { totalMs, checks };
  } finally {
    await client.end();
  }
}

export const JUDGED_IN_NODE = ['credentials-undecryptable'];

/** The checks whose naive count differs from the audit's (checks the audit ran). */
export function disagreements(pass: NaivePass, audit: AuditReport): string[] {
  const wrong: string[] = [];
  for (const check of audit.checks) {
    if (check.status !== 'ok' && check.status !== 'findings') continue;
    // judged in Node (a value that must decrypt): no statement can say it
    if (JUDGED_IN_NODE.includes(check.id)) continue;
    const naive = pass.checks.find((candidate) => candidate.id === check.id);
    if (!naive) wrong.push(`${check.id}: no naive statement`);
    else if (naive.count !== check.count) wrong.push(`${check.id}: naive ${naive.count}, audit ${check.count}`);
  }
  return wrong;
}

/**
 * The naive baseline on a seeded database the audit was just measured on: one unmeasured
 * pass, then `runs` measured ones; figures under `prefix`. Returns the median total, or
 * undefined when the counts disagree (a failed figure says which).
 */
export async function benchNaive(
  ctx: BenchContext,
  db: BenchDatabase,
  prefix: string,
  label: string,
  audit: AuditReport | undefined,
): Promise<number | undefined> {
  const { rec, options } = ctx;
  ctx.log(`naive baseline on the ${label} database: warm-up pass`);
  const passes: NaivePass[] = [];
  let warm: NaivePass;
  try {
    warm = await naivePass(db.url);
    for (let i = 0; i < options.auditRuns; i++) {
      ctx.log(`naive baseline on the ${label} database: pass ${i + 1} of ${options.auditRuns}`);
      passes.push(await naivePass(db.url));
    }
  } catch (error) {
    rec.missing(`${prefix}.total`, `naive baseline (${label})`, 'ms', 'failed', (error as Error).message);
    return undefined;
  }
  const wrong = audit ? disagreements(warm, audit) : ['no audit report to compare with'];
  rec.detail(prefix, { database: db.name, counts: warm.checks.map(({ id, count }) => ({ id, count })), disagreements: wrong });
  if (wrong.length > 0) {
    rec.missing(`${prefix}.total`, `naive baseline (${label})`, 'ms', 'failed', `counts differ from the audit's: ${wrong.join('; ')}`);
    return undefined;
  }
  const total = median(passes.map((pass) => pass.totalMs));
  rec.measured(`${prefix}.total`, `naive baseline (${label}): one plain statement per check, one connection`, 'ms', passes.map((pass) => pass.totalMs), {
    note: `counts equal the audit's for all ${warm.checks.length} statements`,
  });
  for (const check of warm.checks) {
    rec.measured(`${prefix}.check.${check.id}`, `  ${check.id}`, 'ms', passes.map((pass) => pass.checks.find((c) => c.id === check.id)?.ms ?? 0), {
      note: `count ${check.count}`,
    });
  }
  return total;
}
