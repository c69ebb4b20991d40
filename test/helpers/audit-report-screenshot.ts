// Regenerates docs/audit-report.png, the README's picture of `audit --format html`: the
// realistic report and recorded runs of the renderers' tests, rendered and photographed by
// headless Chromium. Run: npx tsx test/helpers/audit-report-screenshot.ts [OUT.png]
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderHtml } from '../../src/render/html.js';
import { realisticHistory, realisticReport } from './audit-reports.js';
import { CHROMIUM, chromiumAvailable, screenshot } from './chromium.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs/audit-report.png'));
if (!chromiumAvailable()) {
  console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  process.exit(1);
}
const dir = mkdtempSync(path.join(tmpdir(), 'igny8-report-'));
try {
  const page = path.join(dir, 'audit.html');
  writeFileSync(page, renderHtml(realisticReport(), { history: realisticHistory() }));
  await screenshot(page, out, 1280, 2000);
  console.log(`${out}: ${statSync(out).size.toLocaleString('en-US')} bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
