// `audit --format html`: one page a person can open from a CI artifact or a mail and share. It
// stands alone: CSS and SVG are inline and the page asks for nothing over any network (its
// Content-Security-Policy forbids it too), so it renders the same offline and years later.
// The verdict, a row per check (status, severity, count, title, samples, fix) and, from two
// recorded runs on, each check's count over the runs. Every value is escaped: samples come
// from the database and may hold markup.
import type { AuditReport, CheckResult } from '../audit/run.js';
import type { RecordedRun } from '../audit/history.js';
import { checkState, countText, moreText, sampleFields, totalsText, verdictLabel } from './audit-text.js';
import { reportForSharing, type PersonalDataOptions } from './personal-data.js';
import { plural } from './text.js';

export interface HtmlOptions extends PersonalDataOptions {
  /** The recorded runs (`audit --record`), oldest first; two or more draw the trend charts. */
  history?: readonly RecordedRun[];
}

/** Text and attribute values: the five characters HTML gives a meaning. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const e = escapeHtml;

function utc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --fail: #c62828; --warn: #a05a00; --ok: #1a7f37; --info: #57606a; --fail-bg: #ffebe9; --warn-bg: #fff8c5; --ok-bg: #dafbe1; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d;
  --fail: #ff7b72; --warn: #d29922; --ok: #3fb950; --info: #9198a1; --fail-bg: #3c1618; --warn-bg: #3a2a05; --ok-bg: #12301c; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 0 0 6px; display: flex; align-items: center; gap: 12px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
code { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", "Liberation Mono", "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.verdict { border: 1px solid var(--line); border-left: 6px solid var(--ok); border-radius: 6px; padding: 14px 18px; background: var(--panel); }
.verdict.fail { border-left-color: var(--fail); }
.badge { font-size: 13px; font-weight: 700; letter-spacing: .04em; padding: 2px 10px; border-radius: 12px; color: #fff; background: var(--ok); }
.verdict.fail .badge { background: var(--fail); }
.totals { margin: 4px 0; font-size: 15px; }
.failure { margin: 6px 0; color: var(--fail); font-weight: 600; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 8px 0 0; color: var(--muted); font-size: 13px; }
.meta div { display: flex; gap: 6px; } .meta dt { font-weight: 600; } .meta dd { margin: 0; }
table.checks { border-collapse: collapse; width: 100%; }
.checks th, .checks td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); }
.checks th { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.checks td.count, .checks th.count { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.checks td.check { white-space: nowrap; }
.checks td.title { width: 18%; }
.checks td.samples { width: 38%; }
.checks td.fix { width: 20%; color: var(--muted); }
.status { display: inline-block; min-width: 72px; text-align: center; font-size: 12px; font-weight: 700; padding: 1px 8px; border-radius: 10px;
  color: var(--info); border: 1px solid var(--line); }
.state-fail .status { color: var(--fail); background: var(--fail-bg); border-color: var(--fail); }
.state-warn .status { color: var(--warn); background: var(--warn-bg); border-color: var(--warn); }
.state-error .status { color: #fff; background: var(--fail); border-color: var(--fail); }
.state-ok .status, .state-enforced .status { color: var(--ok); background: var(--ok-bg); border-color: var(--ok); }
.state-fail td.count { color: var(--fail); font-weight: 700; } .state-warn td.count { color: var(--warn); font-weight: 700; }
.sev-error { color: var(--fail); } .sev-warning { color: var(--warn); }
ul.samples { margin: 0; padding: 0; list-style: none; }
ul.samples li { margin: 0 0 6px; line-height: 1.6; }
ul.samples li > code { display: block; font-weight: 600; }
.field { display: inline-block; max-width: 100%; margin-right: 12px; overflow-wrap: anywhere; } .field b { font-weight: 400; color: var(--muted); margin-right: 4px; white-space: nowrap; }
.more, .detail, .note { margin: 2px 0; color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(344px, 1fr)); gap: 12px; }
figure { margin: 0; padding: 8px 10px 4px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); }
figcaption { font-size: 13px; font-weight: 600; min-height: 2.9em; }
figcaption span { display: block; font-weight: 400; color: var(--muted); font-size: 12px; }
svg.trend { display: block; width: 100%; height: auto; }
svg.trend text { font: 10px system-ui, "Liberation Sans", "DejaVu Sans", sans-serif; fill: var(--muted); }
svg.trend .axis { stroke: var(--line); } svg.trend .grid { stroke: var(--line); stroke-dasharray: 2 3; }
svg.trend .series { fill: none; stroke-width: 2; } svg.trend .dot { stroke: var(--panel); stroke-width: 1.5; }
svg.trend .s-error { stroke: var(--fail); } svg.trend .d-error { fill: var(--fail); }
svg.trend .s-warning { stroke: var(--warn); } svg.trend .d-warning { fill: var(--warn); }
svg.trend .s-total { stroke: var(--info); } svg.trend .d-total { fill: var(--info); }
.axis-note { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
`;

function header(report: AuditReport): string {
  const meta: Array<[string, string]> = [
    ['started', utc(report.startedAt)],
    ['duration', `${report.durationMs.toLocaleString('en-US')} ms`],
    ['schema', report.schemaVersion ?? 'unknown'],
    ...(report.account ? ([['account', report.account]] as Array<[string, string]>) : []),
    ...(report.runId ? ([['run', report.runId]] as Array<[string, string]>) : []),
  ];
  return `<header class="verdict ${report.passed ? 'pass' : 'fail'}">
<h1>igny8 audit <span class="badge">${report.passed ? 'PASS' : 'FAIL'}</span></h1>
<p class="totals"><strong>${e(verdictLabel(report))}</strong>: ${e(totalsText(report))}</p>
${report.failure ? `<p class="failure">${e(report.failure)}</p>\n` : ''}<dl class="meta">${meta
    .map(([term, value]) => `<div><dt>${e(term)}</dt><dd>${e(value)}</dd></div>`)
    .join('')}</dl>
</header>`;
}

function samplesCell(check: CheckResult): string {
  const parts: string[] = [];
  if (check.samples.length > 0) {
    const items = check.samples.map((sample) => {
      const account = sample.account ? `<span class="field"><b>account</b> ${e(String(sample.account))}</span>` : '';
      const fields = sampleFields(sample)
        .map(([field, value]) => `<span class="field"><b>${e(field)}</b> ${e(value)}</span>`)
        .join('');
      return `<li><code>${e(sample.key)}</code>${account}${fields}</li>`;
    });
    parts.push(`<ul class="samples">${items.join('')}</ul>`);
  }
  const more = moreText(check);
  if (more) parts.push(`<p class="more">${e(more)}</p>`);
  if (check.status === 'enforced' && check.enforcedBy) parts.push(`<p class="detail">enforced by ${e(check.enforcedBy)}</p>`);
  if (check.status === 'not-applicable' && check.reason) parts.push(`<p class="detail">not applicable: ${e(check.reason)}</p>`);
  if (check.status === 'error') parts.push(`<p class="detail">${e(check.error ?? 'the check failed to run')}</p>`);
  for (const note of check.notes) parts.push(`<p class="note">${e(note)}</p>`);
  return parts.join('');
}

function fixCell(check: CheckResult): string {
  return check.status === 'findings' ? e(check.remedy) : '';
}

function checksTable(report: AuditReport): string {
  const rows = report.checks.map((check) => {
    const state = checkState(check, report.failOn);
    return `<tr class="state-${state === 'n/a' ? 'na' : state}" data-check="${e(check.id)}">
<td><span class="status">${e(state)}</span></td>
<td class="check"><code>${e(check.id)}</code></td>
<td class="sev-${e(check.severity)}">${e(check.severity)}</td>
<td class="count">${e(countText(check))}</td>
<td class="title">${e(check.title)}</td>
<td class="samples">${samplesCell(check)}</td>
<td class="fix">${fixCell(check)}</td>
</tr>`;
  });
  return `<section id="checks">
<h2>Checks</h2>
<table class="checks">
<thead><tr><th>status</th><th>check</th><th>severity</th><th class="count">count</th><th>title</th><th>samples</th><th>fix</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

// --- the trend: one small chart per check that had findings in a recorded run ------------------

const CHART = { width: 320, height: 132, left: 40, right: 14, top: 12, bottom: 30 };

/** 1, 2, 5 × 10^k at or above the value: round numbers for the y axis. */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** The shortest labels that tell the runs apart: MM-DD within a year, with the time when a day repeats. */
function runLabels(runs: readonly RecordedRun[]): { labels: string[]; note: string } {
  const dates = runs.map((run) => new Date(run.startedAt));
  if (dates.some((date) => Number.isNaN(date.getTime()))) return { labels: runs.map((run) => run.startedAt), note: 'run start times' };
  const iso = dates.map((date) => date.toISOString());
  const years = new Set(iso.map((text) => text.slice(0, 4)));
  const day = iso.map((text) => (years.size === 1 ? text.slice(5, 10) : text.slice(0, 10)));
  const labels = new Set(day).size === day.length ? day : iso.map((text, index) => `${day[index]} ${text.slice(11, 16)}`);
  const span = `${utc(runs[0].startedAt)} to ${utc(runs[runs.length - 1].startedAt)}`;
  return { labels, note: `Runs by start time (UTC${years.size === 1 ? `, ${[...years][0]}` : ''}): ${span}.` };
}

/** Which runs get an x-axis label: all when they fit, else evenly spaced ones with the first and last. */
function labelledRuns(labels: readonly string[], plotWidth: number): Set<number> {
  const widest = Math.max(...labels.map((label) => label.length)) * 6 + 10;
  const fit = Math.max(2, Math.floor(plotWidth / widest) + 1);
  if (labels.length <= fit) return new Set(labels.map((_, index) => index));
  const step = (labels.length - 1) / (fit - 1);
  return new Set(Array.from({ length: fit }, (_, index) => Math.round(index * step)));
}

interface Series {
  id: string;
  caption: string;
  kind: 'error' | 'warning' | 'total';
  counts: Array<number | undefined>;
}

function chart(series: Series, index: number, runs: readonly RecordedRun[], labels: readonly string[]): string {
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const known = series.counts.filter((count): count is number => count !== undefined);
  const max = niceCeiling(Math.max(0, ...known));
  const x = (run: number) => left + (runs.length === 1 ? plotWidth / 2 : (run * plotWidth) / (runs.length - 1));
  const y = (count: number) => top + plotHeight - (count / max) * plotHeight;
  const round = (value: number) => Math.round(value * 10) / 10;
  // A run that did not evaluate the check leaves a gap in the line instead of a false zero.
  let path = '';
  let pen = false;
  series.counts.forEach((count, run) => {
    if (count === undefined) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${round(x(run))} ${round(y(count))} `;
    pen = true;
  });
  const dots = series.counts
    .map((count, run) =>
      count === undefined
        ? ''
        : `<circle class="dot d-${series.kind}" cx="${round(x(run))}" cy="${round(y(count))}" r="3"><title>${e(
            `${utc(runs[run].startedAt)}: ${plural(count, 'row')}`,
          )}</title></circle>`,
    )
    .join('');
  const shown = labelledRuns(labels, plotWidth);
  const xLabels = labels
    .map((label, run) =>
      shown.has(run) ? `<text x="${round(x(run))}" y="${height - bottom + 14}" text-anchor="middle">${e(label)}</text>` : '',
    )
    .join('');
  const ticks = [0, max / 2, max]
    .filter((tick) => Number.isInteger(tick))
    .map(
      (tick) =>
        `<line class="${tick === 0 ? 'axis' : 'grid'}" x1="${left}" x2="${width - right}" y1="${round(y(tick))}" y2="${round(y(tick))}"/>` +
        `<text x="${left - 6}" y="${round(y(tick)) + 3}" text-anchor="end">${tick.toLocaleString('en-US')}</text>`,
    )
    .join('');
  const titleId = `trend-${index}-title`;
  const descId = `trend-${index}-desc`;
  const values = series.counts.map((count, run) => `${labels[run]}: ${count === undefined ? 'not run' : count}`).join(', ');
  return `<figure data-trend="${e(series.id)}">
<figcaption>${e(series.id)} <span>${e(series.caption)}</span></figcaption>
<svg class="trend" role="img" aria-labelledby="${titleId} ${descId}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<title id="${titleId}">${e(`${series.id}: rows found in each of ${runs.length} recorded runs`)}</title>
<desc id="${descId}">${e(values)}</desc>
${ticks}<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}"/>
<path class="series s-${series.kind}" d="${path.trim()}"/>${dots}
${xLabels}<text x="${left + plotWidth / 2}" y="${height - 2}" text-anchor="middle">run date</text>
</svg>
</figure>`;
}

function trendSection(report: AuditReport, runs: readonly RecordedRun[]): string {
  const byId = new Map(report.checks.map((check) => [check.id, check]));
  const seen = new Set(runs.flatMap((run) => Object.keys(run.counts)));
  // The report's order first, then checks recorded earlier that this run no longer has.
  const ids = [...report.checks.map((check) => check.id).filter((id) => seen.has(id)), ...[...seen].filter((id) => !byId.has(id)).sort()];
  const withFindings = ids.filter((id) => runs.some((run) => (run.counts[id] ?? 0) > 0));
  const { labels, note } = runLabels(runs);
  const series: Series[] = [
    {
      id: 'all checks',
      caption: 'rows found, all checks together',
      kind: 'total',
      counts: runs.map((run) => Object.values(run.counts).reduce((sum, count) => sum + Number(count), 0)),
    },
    ...withFindings.map((id): Series => {
      const check = byId.get(id);
      return {
        id,
        caption: check?.title ?? 'no longer checked',
        kind: check?.severity ?? 'error',
        counts: runs.map((run) => (id in run.counts ? Number(run.counts[id]) : undefined)),
      };
    }),
  ];
  const quiet = ids.length - withFindings.length;
  return `<section id="trend">
<h2>Findings over ${plural(runs.length, 'recorded run')}</h2>
<div class="charts">
${series.map((one, index) => chart(one, index, runs, labels)).join('\n')}
</div>
<p class="axis-note">${e(note)}${quiet > 0 ? ` ${e(plural(quiet, 'other check'))} found nothing in any recorded run.` : ''}</p>
</section>`;
}

/** The whole report as one self-contained HTML page. */
export function renderHtml(audited: AuditReport, options: HtmlOptions = {}): string {
  const report = reportForSharing(audited, options);
  const history = options.history ?? [];
  const title = `igny8 audit: ${report.passed ? 'PASS' : 'FAIL'} · ${utc(report.startedAt)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${header(report)}
<main>
${history.length >= 2 ? `${trendSection(report, history)}\n` : ''}${checksTable(report)}
</main>
<footer>igny8 audit, ${e(utc(report.finishedAt))}. Emails and names are ${
    options.showPersonalData ? 'shown as stored (--show-personal-data)' : 'masked; --show-personal-data shows them'
  }.</footer>
</body>
</html>
`;
}
