// The HTML report in a real browser: headless Chromium (Debian's `chromium`) loads the page
// from a file, and the rendered DOM has the title, one row per check and, when runs were
// recorded, the trend charts; a screenshot comes out as a real PNG with something drawn on it.
// Locally a missing Chromium skips these tests with a notice; in CI (CI=true) it fails them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/render/html.js';
import { CHROMIUM, chromiumAvailable, dumpDom, screenshot } from '../helpers/chromium.js';
import { auditReport, checkResult, realisticHistory, realisticReport } from '../helpers/audit-reports.js';

const available = chromiumAvailable();
const required = process.env.CI === 'true';
if (!available && !required) {
  console.warn(
    `\n  NOTICE: ${CHROMIUM} not found: the HTML report's browser tests are SKIPPED.\n` +
      `  Install Debian's chromium (apt-get install -y chromium) to run them; in CI (CI=true) they fail instead.\n`,
  );
}

const dir = mkdtempSync(path.join(tmpdir(), 'igny8-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function page(name: string, html: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, html);
  return file;
}

/** Width, height and the decompressed pixel rows of a PNG (chunks read by hand: no image library). */
function readPng(file: string): { width: number; height: number; pixels: Buffer } {
  const png = readFileSync(file);
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  return { width, height, pixels: inflateSync(Buffer.concat(idat)) };
}

describe('the HTML report in headless Chromium', () => {
  if (!available && required) {
    it('Chromium is installed (required in CI)', () => {
      expect.fail(`${CHROMIUM} is missing: CI must install Debian's chromium (.ci/run does) so the HTML report is tested in a browser`);
    });
  }

  const report = realisticReport({ startedAt: '2026-03-02T09:15:00.000Z' });
  report.checks[0].samples[0] = { ...report.checks[0].samples[0], bio: '<script>document.title = "pwned"</script><img src=x>' };

  it.skipIf(!available)('renders the title, one row per check and the trend charts', async () => {
    const dom = await dumpDom(page('with-history.html', renderHtml(report, { history: realisticHistory() })));
    expect(/<title>([^<]*)<\/title>/.exec(dom)?.[1]).toBe('igny8 audit: FAIL · 2026-03-02 09:15 UTC');
    const rows = [...dom.matchAll(/<tr class="state-[a-z]+" data-check="([^"]+)">/g)].map((match) => match[1]);
    expect(rows).toEqual(report.checks.map((check) => check.id));
    const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(dom)![1];
    expect(tbody.match(/<tr\b/g)).toHaveLength(report.checks.length);
    expect(dom.match(/<svg class="trend"/g)).toHaveLength(10);
    expect(dom).toContain('<title id="trend-1-title">orphan-users: rows found in each of 5 recorded runs</title>');
    // The planted markup stayed text: no element came of it, and the title is ours.
    expect(dom).not.toMatch(/<script|<img/);
    expect(dom).toContain('&lt;script&gt;document.title = "pwned"&lt;/script&gt;&lt;img src=x&gt;');
  });

  it.skipIf(!available)('has no chart when no runs were recorded', async () => {
    const dom = await dumpDom(page('without-history.html', renderHtml(report)));
    expect(dom.match(/<tr class="state-/g)).toHaveLength(report.checks.length);
    expect(dom).not.toContain('<svg');
    const clean = await dumpDom(page('clean.html', renderHtml(auditReport([checkResult('orphan-users')]))));
    expect(/<title>([^<]*)<\/title>/.exec(clean)?.[1]).toMatch(/^igny8 audit: PASS/);
  });

  it.skipIf(!available)('takes a screenshot: a PNG of the window size with a drawn page on it', async () => {
    const png = path.join(dir, 'audit.png');
    await screenshot(page('shot.html', renderHtml(report, { history: realisticHistory() })), png, 1280, 2000);
    const { width, height, pixels } = readPng(png);
    expect([width, height]).toEqual([1280, 2000]);
    // A blank page filters down to a handful of byte values; text, badges and charts give many.
    expect(new Set(pixels).size).toBeGreaterThan(64);
  });
});
