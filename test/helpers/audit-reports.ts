// Audit reports built by hand, for the renderers' tests and the README screenshot: a check
// result with sensible defaults, a report whose totals and verdict follow from its checks, and
// a realistic run (several checks with findings, personal data in samples) with its history.
import type { RecordedRun } from '../../src/audit/history.js';
import { totalsOf, verdict, type AuditReport, type CheckResult, type FailOn } from '../../src/audit/run.js';

export function checkResult(id: string, overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    severity: 'error',
    title: `${id} title`,
    remedy: `igny8 repair ${id}: fix it`,
    repairable: true,
    status: 'ok',
    count: 0,
    suppressed: 0,
    samples: [],
    notes: [],
    durationMs: 7,
    ...overrides,
  };
}

/** A report over these checks; totals, verdict and exit code as the runner computes them. */
export function auditReport(checks: CheckResult[], overrides: Partial<AuditReport> = {}): AuditReport {
  const failOn: FailOn = overrides.failOn ?? 'error';
  const { exitCode, failure } = verdict(checks, failOn);
  return {
    runId: null,
    startedAt: '2026-03-02T09:15:00.000Z',
    finishedAt: '2026-03-02T09:15:01.240Z',
    durationMs: 1240,
    schemaVersion: '0030_invoice_number_sequence',
    account: null,
    failOn,
    checks,
    totals: totalsOf(checks),
    passed: exitCode === 0,
    exitCode,
    failure,
    ...overrides,
  };
}

/** A production-like run: four checks with findings, emails and names in the samples. */
export function realisticReport(overrides: Partial<AuditReport> = {}): AuditReport {
  const findings = (count: number) => ({ status: 'findings' as const, count });
  return auditReport(
    [
      checkResult('orphan-users', {
        ...findings(14),
        title: 'users without an account',
        remedy: 'igny8 repair orphan-users: attach to the account whose owner_id names them, else a recovery account on the free plan',
        samples: [
          { key: 'user:1042', account: 'northwind', user_id: 1042, email: 'maria.lopez@northwind.example', first_name: 'Maria', last_name: 'Lopez', role: 'owner', joined: '2024-11-03' },
          { key: 'user:1187', account: null, user_id: 1187, email: 'j.okafor@gmail.com', first_name: 'James', last_name: 'Okafor', role: 'editor', joined: '2025-01-19' },
          { key: 'user:1260', account: null, user_id: 1260, email: 'ops+bot@acme.example', first_name: '', last_name: '', role: 'system_bot', joined: '2025-02-07' },
        ],
      }),
      checkResult('account-without-owner', { title: "accounts with no owner user, or an owner_id naming another account's user" }),
      checkResult('multiple-owners', {
        ...findings(3),
        severity: 'warning',
        title: 'accounts with more than one owner',
        remedy: 'igny8 repair multiple-owners: keep one owner, the others become admin',
        samples: [{ key: 'account:311', account: 'bluebird-media', owners: 2, emails: 'ann@bluebird.example, sam@bluebird.example' }],
      }),
      checkResult('duplicate-emails', {
        ...findings(2),
        title: 'emails equal ignoring case',
        remedy: 'no repair: a person decides which user keeps the email (blocks the case-insensitive unique index)',
        repairable: false,
        samples: [
          { key: 'email:tom@brightseo.example', account: 'brightseo', email: 'tom@brightseo.example', users: 2, first_user_id: 88, last_user_id: 2043 },
          { key: 'email:li.wei@hanstudio.example', account: 'han-studio', email: 'li.wei@hanstudio.example', users: 2, first_user_id: 412, last_user_id: 1990 },
        ],
      }),
      checkResult('site-industry-null', {
        ...findings(6),
        title: 'sites without an industry',
        remedy: "igny8 repair site-industry-null: infer from the site's sectors when unambiguous, else --default-industry SLUG",
        samples: [{ key: 'site:220', account: 'northwind', site: 'northwind-blog', sectors: 0 }],
      }),
      checkResult('plan-catalog-drift', {
        status: 'suppressed',
        suppressed: 1,
        title: 'plan rows differing from the catalog',
        notes: ['suppressed until 2026-06-30: enterprise plan negotiated separately'],
      }),
      checkResult('subscription-plan-missing', { status: 'enforced', enforcedBy: 'igny8_subscriptions.plan_id not null', title: 'subscriptions without a plan' }),
      checkResult('subscription-plan-drift', {
        status: 'not-applicable',
        severity: 'warning',
        reason: 'igny8_subscriptions has no plan_id column yet',
        title: "subscriptions whose plan differs from the account's plan",
      }),
      checkResult('credit-balance-drift', {
        ...findings(41),
        title: 'credit balances differing from the ledger sum or the last balance_after',
        remedy: 'igny8 repair credit-balance-drift: an adjustment ledger row that reconciles, the balance untouched',
        samples: [
          { key: 'account:77', account: 'acme', credits: 1000, ledger_sum: 900, last_balance_after: 900 },
          { key: 'account:145', account: 'globex', credits: 250, ledger_sum: 300, last_balance_after: 300 },
        ],
      }),
      checkResult('ledger-chain-broken', { title: 'ledger rows whose balance_after is not the previous balance_after plus the amount', repairable: false }),
      checkResult('payment-method-drift', { title: 'account, subscription and default payment method disagree, or no single default' }),
      checkResult('site-access-missing', {
        ...findings(9),
        severity: 'warning',
        title: 'sites the owner has no access row for',
        remedy: 'igny8 repair site-access-missing: backfill the owner access rows',
        samples: [{ key: 'site:305', account: 'globex', site: 'globex-shop', owners_without_access: 'hank.scorpio@globex.example' }],
      }),
      checkResult('plaintext-credentials', {
        ...findings(5),
        title: 'WordPress passwords or API keys stored in plaintext',
        remedy: 'igny8 repair plaintext-credentials: move them into the integration, encrypted (IGNY8_SECRET_KEY)',
        samples: [{ key: 'site:220', account: 'northwind', source: 'site', site: 'northwind-blog', wp_username: 'mlopez', wp_app_password: '***' }],
      }),
    ],
    overrides,
  );
}

/** Five weekly recorded runs, oldest first, the last one this report's. */
export function realisticHistory(): RecordedRun[] {
  const weeks = ['2026-02-02T09:00:00.000Z', '2026-02-09T09:00:00.000Z', '2026-02-16T09:00:00.000Z', '2026-02-23T09:00:00.000Z', '2026-03-02T09:15:00.000Z'];
  const counts: Record<string, number[]> = {
    'orphan-users': [31, 27, 22, 17, 14],
    'account-without-owner': [4, 2, 0, 0, 0],
    'multiple-owners': [3, 3, 3, 3, 3],
    'duplicate-emails': [2, 2, 2, 2, 2],
    'site-industry-null': [19, 15, 15, 9, 6],
    'credit-balance-drift': [12, 18, 26, 33, 41],
    'ledger-chain-broken': [0, 0, 0, 0, 0],
    'payment-method-drift': [7, 0, 0, 0, 0],
    'site-access-missing': [15, 14, 12, 11, 9],
    'plaintext-credentials': [8, 8, 6, 5, 5],
  };
  return weeks.map((startedAt, run) => ({
    runId: `00000000-0000-4000-8000-00000000000${run + 1}`,
    startedAt,
    exitCode: 1,
    counts: Object.fromEntries(Object.entries(counts).map(([id, series]) => [id, series[run]])),
  }));
}
