// The CLI under measurement is a private build: src/ compiled into a directory of the bench's
// own (with bin/, fixtures/, package.json beside it and node_modules linked), so that other
// people rebuilding dist/ in the same working tree during a long run cannot swap code under
// the bench, or leave it half-written when the run starts. Same sources, same compiler, same
// Node: what a user runs.
import { execFileSync } from 'node:child_process';
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
  try {
    for (const entry of ['bin', 'fixtures', 'package.json']) {
      cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch {
      // Type errors still emit JavaScript (as `npm run build` does); a missing entry does not.
    }
    execFileSync(process.execPath, [path.join(dir, 'bin', 'igny8'), '--help'], { stdio: 'ignore' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot build a private copy of the CLI: ${(error as Error).message}`, { cause: error });
  }
  return { bin: path.join(dir, 'bin', 'igny8'), dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
