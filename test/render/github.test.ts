// GitHub workflow commands land in CI logs anyone with access to the repository reads: the
// emails and names in samples are masked unless --show-personal-data asks for them.
import { describe, expect, it } from 'vitest';
import { renderGithub } from '../../src/render/github.js';
import { auditReport, checkResult, realisticReport } from '../helpers/audit-reports.js';

describe('renderGithub', () => {
  it('masks the emails in sample keys and notes by default', () => {
    const report = auditReport([
      ...realisticReport().checks,
      checkResult('invoice-billing-snapshot-missing', {
        severity: 'warning',
        notes: ['suppression of email:ann@x.io expired on 2026-01-01: counted again (merge planned)'],
      }),
    ]);
    const output = renderGithub(report).join('\n');
    expect(output).not.toMatch(/tom@|li\.wei@|ann@/);
    expect(output).toContain('(e.g. email:t***@brightseo.example, email:l***@hanstudio.example)');
    expect(output).toContain('suppression of email:a***@x.io expired');
  });

  it('shows them with showPersonalData', () => {
    const output = renderGithub(realisticReport(), { showPersonalData: true }).join('\n');
    expect(output).toContain('(e.g. email:tom@brightseo.example, email:li.wei@hanstudio.example)');
  });

  it('keeps one workflow command per finding set and the summary notice', () => {
    const lines = renderGithub(realisticReport());
    for (const line of lines) expect(line).toMatch(/^::(error|warning|notice) title=[^:,\n]+::\S.*$/);
    expect(lines.filter((line) => line.startsWith('::error'))).toHaveLength(5);
    expect(lines.filter((line) => line.startsWith('::warning'))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^::notice title=igny8 audit::failed \(--fail-on error\): 13 checks, 7 with findings/);
  });
});
