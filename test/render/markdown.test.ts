// The markdown summary for a pull-request comment or GITHUB_STEP_SUMMARY: the verdict, a table
// row per check, a section per check with findings (samples, fix), values escaped so no sample
// can break the table or inject markup, and personal data masked unless asked for.
import { describe, expect, it } from 'vitest';
import { escapeMarkdown, renderMarkdown } from '../../src/render/markdown.js';
import { auditReport, checkResult, realisticReport } from '../helpers/audit-reports.js';

/** The cells of a GFM table row: split on pipes that no backslash escapes. */
function cells(line: string): string[] {
  return line.replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/** The tables of a document, each as its rows of cells, header and delimiter row included. */
function tables(markdown: string): string[][][] {
  const found: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) (current ??= []).push(cells(line));
    else if (current) {
      found.push(current);
      current = null;
    }
  }
  if (current) found.push(current);
  return found;
}

describe('renderMarkdown', () => {
  it('opens with the verdict and its counts, then a table row per check', () => {
    const report = realisticReport();
    const markdown = renderMarkdown(report);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('## igny8 audit: ❌ FAIL');
    expect(lines[2]).toBe(
      '**FAIL (--fail-on error)**: 13 checks, 7 with findings (68 error rows, 12 warning rows), 1 enforced by schema, 1 not applicable, 1 suppressed',
    );
    expect(markdown).toContain('schema <code>0030\\_invoice\\_number\\_sequence</code> · started 2026-03-02 09:15 UTC · 1,240 ms');
    const [checks] = tables(markdown);
    expect(checks[0]).toEqual(['status', 'check', 'severity', 'count', 'title']);
    expect(checks[1]).toEqual([':--', ':--', ':--', '--:', ':--']);
    expect(checks.slice(2).map((row) => row[1])).toEqual(report.checks.map((check) => `<code>${escapeMarkdown(check.id)}</code>`));
    expect(checks[2]).toEqual(['❌ fail', '<code>orphan-users</code>', 'error', '14', 'users without an account']);
    const states = Object.fromEntries(checks.slice(2).map((row) => [row[1].replace(/<\/?code>/g, ''), row[0]]));
    expect(states).toMatchObject({
      'multiple-owners': '⚠️ warn',
      'account-without-owner': '✅ ok',
      'plan-catalog-drift': '🔕 suppressed',
      'subscription-plan-missing': '🔒 enforced',
      'subscription-plan-drift': '➖ n/a',
    });
    for (const table of tables(markdown)) for (const row of table) expect(row).toHaveLength(table[0].length);
  });

  it('gives each check with findings a section: its samples, what is left unshown, its fix', () => {
    const markdown = renderMarkdown(realisticReport());
    const headings = markdown.split('\n').filter((line) => line.startsWith('### '));
    expect(headings).toEqual([
      '### ❌ <code>orphan-users</code>: 14 rows (error)',
      '### ⚠️ <code>multiple-owners</code>: 3 rows (warning)',
      '### ❌ <code>duplicate-emails</code>: 2 rows (error)',
      '### ❌ <code>site-industry-null</code>: 6 rows (error)',
      '### ❌ <code>credit-balance-drift</code>: 41 rows (error)',
      '### ⚠️ <code>site-access-missing</code>: 9 rows (warning)',
      '### ❌ <code>plaintext-credentials</code>: 5 rows (error)',
      '### Notes',
    ]);
    const orphans = markdown.slice(markdown.indexOf('### ❌ <code>orphan-users'), markdown.indexOf('### ⚠️ <code>multiple-owners'));
    const [samples] = tables(orphans);
    expect(samples[0]).toEqual(['key', 'account', 'user\\_id', 'email', 'first\\_name', 'last\\_name', 'role', 'joined']);
    expect(samples).toHaveLength(2 + 3);
    expect(orphans).toContain('… and 11 more');
    expect(orphans).toContain('**Fix:** igny8 repair orphan-users: attach to the account whose owner\\_id names them');
    expect(markdown).toContain('- <code>plan-catalog-drift</code>: suppressed until 2026-06-30: enterprise plan negotiated separately');
  });

  it('says why a run failed and shows a check that could not run', () => {
    const report = auditReport([checkResult('ledger-chain-broken', { status: 'error', error: 'canceling statement due to statement timeout (SQLSTATE 57014)' })]);
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('> **Why:** 1 check failed to run: ledger-chain-broken');
    expect(markdown).toContain('### 💥 <code>ledger-chain-broken</code>: failed to run (error)');
    expect(markdown).toContain('**Error:** canceling statement due to statement timeout (SQLSTATE 57014)');
  });

  it('a passing run says PASS', () => {
    const markdown = renderMarkdown(auditReport([checkResult('orphan-users'), checkResult('site-access-missing', { severity: 'warning', status: 'findings', count: 2 })]));
    expect(markdown.split('\n')[0]).toBe('## igny8 audit: ✅ PASS');
    expect(markdown).toContain('| ⚠️ warn | <code>site-access-missing</code> | warning | 2 |');
  });
});

describe('escaping', () => {
  const hostile = 'a|b `tick` <img src=x onerror=alert(1)> *bold* _it_ [link](http://x) ~del~ \\ "q" &amp;\nsecond line';
  const report = auditReport([
    checkResult('orphan-users', {
      status: 'findings',
      count: 1,
      title: 'title | with `code` and <b>tags</b>',
      remedy: 'fix | <script>alert(1)</script>',
      samples: [{ key: 'user:1|2', account: 'acme|corp', note: hostile, obj: { a: '|<x>' } }],
      notes: ['note with | and <i>'],
    }),
  ]);
  const markdown = renderMarkdown(report);

  it('no value adds a cell or a row to a table', () => {
    for (const table of tables(markdown)) for (const row of table) expect(row).toHaveLength(table[0].length);
    const [checks, samples] = tables(markdown);
    expect(checks).toHaveLength(3);
    expect(samples).toHaveLength(3);
  });

  it('no value brings markup of its own: <, >, &, " become entities; backticks, pipes and emphasis are escaped', () => {
    expect(markdown).not.toMatch(/<(?!\/?(code|sub|br)>)/);
    expect(markdown).not.toMatch(/(?<!\\)`/);
    expect(escapeMarkdown(hostile)).toBe(
      'a\\|b \\`tick\\` &lt;img src=x onerror=alert(1)&gt; \\*bold\\* \\_it\\_ \\[link\\](http://x) \\~del\\~ \\\\ &quot;q&quot; &amp;amp;<br>second line',
    );
    expect(markdown).toContain('fix \\| &lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('control characters become spaces', () => {
    expect(escapeMarkdown('a\tb\u0007c\r\nd')).toBe('a b c<br>d');
  });
});

describe('personal data', () => {
  it('is masked by default: emails keep a first character and the domain, names a first letter', () => {
    const markdown = renderMarkdown(realisticReport());
    for (const text of ['maria.lopez@northwind.example', 'tom@brightseo.example', 'Maria', 'Lopez', 'Okafor', 'hank.scorpio', 'mlopez']) {
      expect(markdown).not.toContain(text);
    }
    expect(markdown).toContain('<code>m\\*\\*\\*@northwind.example</code> | <code>M\\*\\*\\*</code> | <code>L\\*\\*\\*</code>');
    expect(markdown).toContain('<code>email:t\\*\\*\\*@brightseo.example</code>');
  });

  it('is shown with showPersonalData', () => {
    const markdown = renderMarkdown(realisticReport(), { showPersonalData: true });
    expect(markdown).toContain('<code>maria.lopez@northwind.example</code> | <code>Maria</code> | <code>Lopez</code>');
    expect(markdown).toContain('<code>email:tom@brightseo.example</code>');
    expect(markdown).not.toContain('\\*\\*\\*@');
  });
});
