// igny8 seed legacy: a layout or shape it cannot build is bad input, named, before anything is
// written.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'igny8-seed-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  [['--layout', 'sideways'], /--layout.*one of ordered, arrival/],
  [['--shape', 'huge'], /--shape.*unknown shape "huge"/],
  [['--shape', 'production,users=9'], /--shape.*users=9 is out of reach/],
])('seed legacy %j exits 2 naming the flag, nothing written', async (flags, message) => {
  const dataDir = path.join(dir, String(flags.join('-')).replace(/[^a-z0-9]/gi, '_'));
  const result = await runCli(['seed', 'legacy', '--accounts', '100', ...flags], { env: { IGNY8_DATA_DIR: dataDir } });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(existsSync(dataDir)).toBe(false);
});
