// The CLI under measurement is a private copy of the built tree (bin/, dist/, package.json,
// fixtures/, with node_modules linked): other people rebuilding dist/ in the same working
// tree during a long run must not swap code under the bench. Same files, same Node: what a
// user runs.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CliSnapshot {
  bin: string;
  dir: string;
  remove(): void;
}

export function snapshotCli(): CliSnapshot {
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-bench-cli-'));
  for (const entry of ['bin', 'dist', 'fixtures', 'package.json']) {
    cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { bin: path.join(dir, 'bin', 'igny8'), dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
