// One process at a time on an embedded database directory. The lock file names its owner's
// pid; a lock whose owner is gone is stale and taken over, so it can never block forever.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseUnavailable } from '../errors.js';

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'igny8.lock';

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryAcquire(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let owner = NaN;
  try {
    owner = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return false; // removed between our open and read: try again
  }
  if (owner === process.pid || !ownerAlive(owner)) {
    rmSync(file, { force: true });
  }
  return false;
}

/** Waits (up to waitMs) for the directory to be free, then holds it until release(). */
export async function acquireDataDirLock(dataDir: string, waitMs = 30_000): Promise<DataDirLock> {
  const file = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.${LOCK_FILE}`);
  const deadline = Date.now() + waitMs;
  while (!tryAcquire(file)) {
    if (Date.now() > deadline) {
      throw new DatabaseUnavailable(
        `the embedded database in ${dataDir} is in use by another igny8 process (lock ${file})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { release };
}
