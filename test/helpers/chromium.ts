// Headless Chromium from Debian's `chromium` package, driven through its command line: no
// browser download, no driver library. Each call gets a fresh profile and every background
// service that would reach the network is off, so a page is judged on what it loads itself.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function headless(flags: string[], file: string): Promise<string> {
  const profile = mkdtempSync(path.join(tmpdir(), 'igny8-chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...flags,
        pathToFileURL(file).href,
      ],
      { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM after the page has loaded and rendered, serialized. */
export function dumpDom(file: string): Promise<string> {
  return headless(['--dump-dom'], file);
}

/** A PNG of the page's first `width` × `height` pixels. */
export async function screenshot(file: string, png: string, width = 1280, height = 2000): Promise<void> {
  await headless([`--screenshot=${png}`, `--window-size=${width},${height}`], file);
}
