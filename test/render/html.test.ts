// The HTML report is one page that stands alone: no request leaves it (no src, href, url() or
// import of anything), every value is escaped, a row per check, and the trend charts appear
// exactly when at least two recorded runs exist.
import { describe, expect, it } from 'vitest';
import type { RecordedRun } from '../../src/audit/history.js';
import { escapeHtml, renderHtml } from '../../src/render/html.js';
import { auditReport, checkResult, realisticHistory, realisticReport } from '../helpers/audit-reports.js';

/** Anything in a page that could make a browser fetch: attributes naming a resource, CSS urls and imports. */
const FETCHES = [
  /<[a-z][^>]*\s(?:src|href|xlink:href|srcset|action|formaction|poster|data|background|ping|manifest|codebase|cite)\s*=/i,
  /url\s*\(/i,
  /@import/i,
  /<(?:link|script|img|iframe|object|embed|video|audio|source|base|form|frame|meta\s+http-equiv=["']?refresh)\b/i,
];

/** The tags a page of ours may hold: anything else came from a value that escaped its escaping. */
const OUR_TAGS = new Set(
  'html head meta title style body header h1 h2 span p strong dl div dt dd main section table thead tbody tr th td code ul li b figure figcaption svg desc line path circle text footer'.split(' '),
);

function tagsOf(html: string): string[] {
  return [...html.replace(/^<!doctype html>/i, '').matchAll(/<\/?([^\s>/]+)/g)].map((match) => match[1].toLowerCase());
}

const PLANT = '<script>alert(1)</script>';

describe('renderHtml', () => {
  const history = realisticHistory();
  const report = realisticReport();
  const page = renderHtml(report, { history });

  it('is one page that requests nothing: no external URL, only inline CSS and SVG, and a policy that forbids fetching', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    for (const pattern of FETCHES) expect(page).not.toMatch(pattern);
    expect(page).not.toMatch(/https?:\/\/|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(page.match(/<style>/g)).toHaveLength(1);
    expect(page).not.toMatch(/@font-face/);
  });

  it('tells the verdict with its counts in the title and the header', () => {
    expect(page).toContain('<title>igny8 audit: FAIL · 2026-03-02 09:15 UTC</title>');
    expect(page).toContain('<span class="badge">FAIL</span>');
    expect(page).toContain('<strong>FAIL (--fail-on error)</strong>: 13 checks, 7 with findings (68 error rows, 12 warning rows)');
    expect(renderHtml(auditReport([checkResult('orphan-users')]))).toContain('<title>igny8 audit: PASS');
  });

  it('has one row per check, in the report order, with status, severity, count, title, samples and fix', () => {
    const rows = [...page.matchAll(/<tr class="state-([a-z]+)" data-check="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((row) => row[2])).toEqual(report.checks.map((check) => check.id));
    expect(Object.fromEntries(rows.map((row) => [row[2], row[1]]))).toMatchObject({
      'orphan-users': 'fail',
      'multiple-owners': 'warn',
      'account-without-owner': 'ok',
      'plan-catalog-drift': 'suppressed',
      'subscription-plan-missing': 'enforced',
      'subscription-plan-drift': 'na',
    });
    const orphans = rows[0][3];
    expect(orphans.match(/<td/g)).toHaveLength(7);
    expect(orphans).toContain('<td class="count">14</td>');
    expect(orphans).toContain('<td class="title">users without an account</td>');
    expect(orphans.match(/<li>/g)).toHaveLength(3);
    expect(orphans).toContain('<p class="more">… and 11 more</p>');
    expect(orphans).toContain('<td class="fix">igny8 repair orphan-users: attach to the account whose owner_id names them');
    expect(page).toContain('enforced by igny8_subscriptions.plan_id not null');
    expect(page).toContain('not applicable: igny8_subscriptions has no plan_id column yet');
  });

  it('draws a chart per check that had findings in the recorded runs, plus the total, each titled and with dated axes', () => {
    const charts = [...page.matchAll(/<figure data-trend="([^"]+)">[\s\S]*?<\/figure>/g)];
    expect(charts.map((chart) => chart[1])).toEqual([
      'all checks',
      'orphan-users',
      'account-without-owner',
      'multiple-owners',
      'duplicate-emails',
      'site-industry-null',
      'credit-balance-drift',
      'payment-method-drift',
      'site-access-missing',
      'plaintext-credentials',
    ]);
    expect(page).toContain('<h2>Findings over 5 recorded runs</h2>');
    for (const [chart] of charts) {
      expect(chart).toMatch(/<svg class="trend" role="img" aria-labelledby="trend-\d+-title trend-\d+-desc"/);
      expect(chart).toMatch(/<title id="trend-\d+-title">[^<]+: rows found in each of 5 recorded runs<\/title>/);
      for (const day of ['02-02', '02-09', '02-16', '02-23', '03-02']) expect(chart).toContain(`>${day}</text>`);
      expect(chart.match(/<circle /g)).toHaveLength(5);
    }
    const credit = charts.find((chart) => chart[1] === 'credit-balance-drift')![0];
    expect(credit).toContain('<desc id="trend-6-desc">02-02: 12, 02-09: 18, 02-16: 26, 02-23: 33, 03-02: 41</desc>');
    expect(credit).toContain('<title>2026-03-02 09:15 UTC: 41 rows</title>');
    expect(page).toContain('1 other check found nothing in any recorded run.');
  });

  it('draws no chart without at least two recorded runs', () => {
    for (const few of [undefined, [], history.slice(0, 1)]) {
      const html = renderHtml(report, { history: few });
      expect(html).not.toContain('<svg');
      expect(html).not.toContain('id="trend"');
    }
    expect(renderHtml(report, { history: history.slice(0, 2) }).match(/<svg /g)!.length).toBeGreaterThan(1);
  });

  it('labels runs on one day with their time, and leaves a gap where a run did not evaluate a check', () => {
    const runs: RecordedRun[] = [
      { runId: 'a', startedAt: '2026-03-02T08:00:00.000Z', exitCode: 1, counts: { 'orphan-users': 3 } },
      { runId: 'b', startedAt: '2026-03-02T12:30:00.000Z', exitCode: 1, counts: {} },
      { runId: 'c', startedAt: '2026-03-02T17:45:00.000Z', exitCode: 1, counts: { 'orphan-users': 1, 'retired-check': 2 } },
    ];
    const html = renderHtml(report, { history: runs });
    expect(html).toContain('>03-02 12:30</text>');
    const orphans = /<figure data-trend="orphan-users">[\s\S]*?<\/figure>/.exec(html)![0];
    expect(orphans).toContain('03-02 12:30: not run');
    expect(orphans.match(/<circle /g)).toHaveLength(2);
    expect(/ d="([^"]+)"/.exec(orphans)![1].match(/M/g)).toHaveLength(2);
    expect(html).toContain('<figure data-trend="retired-check">');
    expect(html).toContain('no longer checked');
  });
});

describe('escaping', () => {
  const planted = auditReport(
    [
      checkResult(`orphan-users"><em>`, {
        status: 'findings',
        count: 2,
        title: `title ${PLANT}`,
        remedy: `remedy ${PLANT}`,
        samples: [{ key: `user:${PLANT}`, account: PLANT, bio: PLANT, meta: { html: PLANT }, 'field<i>': "it's & <u>" }],
        notes: [`note ${PLANT}`],
      }),
      checkResult('ledger-chain-broken', { status: 'error', error: `error ${PLANT}` }),
      checkResult('subscription-plan-drift', { status: 'not-applicable', reason: `reason ${PLANT}` }),
      checkResult('subscription-plan-missing', { status: 'enforced', enforcedBy: `index ${PLANT}` }),
    ],
    { schemaVersion: PLANT, account: PLANT, runId: PLANT },
  );
  const runs: RecordedRun[] = [
    { runId: 'a', startedAt: PLANT, exitCode: 1, counts: { [PLANT]: 1 } },
    { runId: 'b', startedAt: '2026-03-02T12:30:00.000Z', exitCode: 1, counts: { [PLANT]: 2 } },
  ];
  const html = renderHtml(planted, { history: runs, showPersonalData: true });

  it('every value is escaped: no tag but the page’s own, no script', () => {
    expect(html).not.toMatch(/<script/i);
    expect(new Set(tagsOf(html).filter((tag) => !OUR_TAGS.has(tag)))).toEqual(new Set());
    const escaped = escapeHtml(PLANT);
    expect(escaped).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    // title, remedy, key, account (sample and header), bio, meta, note, error, reason, enforced, schema, run, history id and date
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(14);
    for (const pattern of FETCHES) expect(html).not.toMatch(pattern);
  });

  it('attribute values cannot be closed by a value', () => {
    expect(html).toContain('data-check="orphan-users&quot;&gt;&lt;em&gt;"');
    expect(html).toContain('<b>field&lt;i&gt;</b> it&#39;s &amp; &lt;u&gt;');
  });
});

describe('personal data', () => {
  it('is masked by default and says how to show it', () => {
    const html = renderHtml(realisticReport());
    for (const text of ['maria.lopez@northwind.example', 'tom@brightseo.example', 'Maria', 'Okafor', 'mlopez']) expect(html).not.toContain(text);
    expect(html).toContain('<b>email</b> m***@northwind.example</span><span class="field"><b>first_name</b> M***</span>');
    expect(html).toContain('<code>email:t***@brightseo.example</code>');
    expect(html).toContain('Emails and names are masked; --show-personal-data shows them.');
  });

  it('is shown with showPersonalData', () => {
    const html = renderHtml(realisticReport(), { showPersonalData: true });
    expect(html).toContain('<b>email</b> maria.lopez@northwind.example</span><span class="field"><b>first_name</b> Maria</span>');
    expect(html).toContain('Emails and names are shown as stored (--show-personal-data).');
  });
});
