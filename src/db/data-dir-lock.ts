// One process at a time on an embedded database directory. PGlite is a single process'
// database: two processes on one directory each keep their own copy of its pages, and the
// writes of one are lost under the other's (credit grants vanished this way).
//
// The lock is a directory that holds exactly one file naming its owner. Every step that
// decides who holds it is one atomic system call, so no check-then-act window exists:
//
//   acquire    rename(<private dir with our owner file>, LOCK): atomic; it fails while LOCK is
//              held (a held LOCK is never empty) and replaces only an empty LOCK.
//   take over  unlink(LOCK/<dead owner's file>): names that one owner's file, whose name is
//              unique to one acquisition, so it can never remove a newer owner's file; then
//              rmdir(LOCK), which removes only an empty directory.
//   release    unlink(LOCK/<our file>), then rmdir(LOCK).
//
// An owner is dead when its pid is gone, or (on Linux) when that pid now belongs to a process
// started at another time. A holder killed at any point leaves a lock the next process takes
// over; nothing ever blocks for good.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DatabaseUnavailable } from '../errors.js';

export interface DataDirLock {
  release(): void;
}

export interface LockWaitOptions {
  /** How long to wait for another process before giving up, in milliseconds. */
  waitMs?: number;
  /** Called once when the wait has lasted a second, with who holds the lock. */
  onWait?: (message: string) => void;
  /** How long to wait before saying so (milliseconds). */
  noticeAfterMs?: number;
}

const DEFAULT_WAIT_MS = 10 * 60_000;
const POLL_MS = 25;

interface Owner {
  /** The owner file's name: `<pid>-<start time>-<nonce>`, unique to one acquisition. */
  name: string;
  pid: number;
  startTime: string;
}

/** The lock directory that guards an embedded data directory (beside it, not inside it). */
export function lockPath(dataDir: string): string {
  return path.join(path.dirname(dataDir), `${path.basename(dataDir)}.igny8.lock`);
}

/**
 * When a process started, as the kernel records it (Linux: field 22 of /proc/<pid>/stat), or
 * '' where that cannot be read. It tells a reused pid from the owner that had it.
 */
function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

function parseOwner(name: string): Owner | undefined {
  const match = /^(\d+)-(\d*)-[0-9a-f]+$/.exec(name);
  if (!match) return undefined;
  return { name, pid: Number(match[1]), startTime: match[2] ?? '' };
}

function ownerAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.startTime === '') return true;
  const now = processStartTime(owner.pid);
  return now === '' || now === owner.startTime;
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function ignore(codes: readonly string[], step: () => void): void {
  try {
    step();
  } catch (error) {
    if (!codes.includes(errno(error) ?? '')) throw error;
  }
}

type Attempt = { held: true } | { held: false; owner: Owner | undefined };

/** One attempt: take the lock, or take it over from a dead owner, or report who holds it. */
function attempt(lock: string, staging: string, mine: string): Attempt {
  try {
    renameSync(staging, lock);
    return { held: true };
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST', 'EPERM', 'EISDIR', 'ENOTDIR'].includes(errno(error) ?? '')) throw error;
  }
  let entries: string[];
  try {
    entries = readdirSync(lock);
  } catch (error) {
    if (errno(error) === 'ENOENT') return { held: false, owner: undefined }; // released meanwhile
    if (errno(error) === 'ENOTDIR') {
      // A lock file of an older igny8 (a plain file with a pid): treat it as an owner.
      return takeOverLegacyFile(lock);
    }
    throw error;
  }
  if (entries.length === 0) {
    // An owner died between releasing its file and removing the directory.
    ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST'], () => rmdirSync(lock));
    return { held: false, owner: undefined };
  }
  const owners = entries.map(parseOwner);
  const alive = owners.find((owner) => owner !== undefined && (owner.name === mine || ownerAlive(owner)));
  if (alive) return { held: false, owner: alive };
  for (const entry of entries) ignore(['ENOENT'], () => unlinkSync(path.join(lock, entry)));
  ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST'], () => rmdirSync(lock));
  return { held: false, owner: undefined };
}

function takeOverLegacyFile(lock: string): Attempt {
  let pid = NaN;
  try {
    pid = Number(readFileSync(lock, 'utf8').trim());
  } catch {
    return { held: false, owner: undefined };
  }
  const owner: Owner = { name: String(pid), pid, startTime: '' };
  if (Number.isInteger(pid) && pid > 0 && ownerAlive(owner)) return { held: false, owner };
  // Moving it aside is atomic: of several processes, one removes it; the rest find it gone.
  const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  ignore(['ENOENT'], () => renameSync(lock, aside));
  rmSync(aside, { force: true });
  return { held: false, owner: undefined };
}

/** Waits for the directory to be free (saying so after a second), then holds it until release(). */
export async function acquireDataDirLock(dataDir: string, options: LockWaitOptions = {}): Promise<DataDirLock> {
  const lock = lockPath(dataDir);
  const mine = `${process.pid}-${processStartTime(process.pid)}-${randomBytes(6).toString('hex')}`;
  const staging = `${lock}.${mine}`;
  mkdirSync(staging, { recursive: true });
  writeFileSync(path.join(staging, mine), '', { mode: 0o600 });
  const started = Date.now();
  const deadline = started + (options.waitMs ?? DEFAULT_WAIT_MS);
  const noticeAt = started + (options.noticeAfterMs ?? 1_000);
  let noticed = false;
  try {
    for (;;) {
      const result = attempt(lock, staging, mine);
      if (result.held) break;
      const now = Date.now();
      const holder = result.owner ? `igny8 process ${result.owner.pid}` : 'another igny8 process';
      if (now > deadline) {
        throw new DatabaseUnavailable(`the embedded database in ${dataDir} is in use by ${holder}`, {
          details: [`lock: ${lock}`, 'it is free again when that process ends'],
        });
      }
      if (!noticed && now >= noticeAt) {
        noticed = true;
        options.onWait?.(`waiting for the embedded database in ${dataDir}: it is in use by ${holder}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS + Math.floor(Math.random() * POLL_MS)));
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    ignore(['ENOENT'], () => unlinkSync(path.join(lock, mine)));
    ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST'], () => rmdirSync(lock));
  };
  process.on('exit', release);
  removeAbandonedStaging(lock);
  return { release };
}

/** Staging directories of processes killed while they waited: nobody else will remove them. */
function removeAbandonedStaging(lock: string): void {
  const prefix = `${path.basename(lock)}.`;
  let siblings: string[];
  try {
    siblings = readdirSync(path.dirname(lock));
  } catch {
    return;
  }
  for (const sibling of siblings) {
    if (!sibling.startsWith(prefix)) continue;
    const owner = parseOwner(sibling.slice(prefix.length));
    if (owner && !ownerAlive(owner)) rmSync(path.join(path.dirname(lock), sibling), { recursive: true, force: true });
  }
}
