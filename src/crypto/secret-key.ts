// The key that encrypts stored credentials (seed #12). It comes from IGNY8_SECRET_KEY; on the
// embedded database a missing key is generated once into a file beside the data directory,
// because a developer's laptop has nowhere else to keep it. On a server a missing key is a
// refusal: a key generated on one machine would leave the data unreadable on the next.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DatabaseKind } from '../db/connect.js';
import { DomainRefusal, ValidationError } from '../errors.js';
import { registerSecret } from '../secrets.js';

export const SECRET_KEY_ENV = 'IGNY8_SECRET_KEY';
/** A file holding the key (a mounted secret), as an alternative to the variable itself. */
export const SECRET_KEY_FILE_ENV = 'IGNY8_SECRET_KEY_FILE';
export const SECRET_KEY_BYTES = 32;

const FORMAT = `64 hexadecimal characters or the base64 of ${SECRET_KEY_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`;

/** Parses a key written as 64 hex characters or as base64 of 32 bytes; anything else is refused. */
export function parseSecretKey(text: string, field = SECRET_KEY_ENV): Buffer {
  const value = text.trim();
  registerSecret(value);
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(value) || /^[A-Za-z0-9_-]{43}$/.test(value)) {
    const bytes = Buffer.from(value, value.endsWith('=') ? 'base64' : 'base64url');
    if (bytes.length === SECRET_KEY_BYTES) return bytes;
  }
  throw new ValidationError(field, `must be ${FORMAT}; the value given is not (it is not shown)`);
}

/** Where the embedded database's generated key lives: beside its directory, never inside it. */
export function secretKeyFile(dataDir: string): string {
  return path.join(path.dirname(dataDir), `${path.basename(dataDir)}.secret-key`);
}

export interface LoadSecretKeyOptions {
  kind: DatabaseKind;
  /** The embedded database's directory; undefined on a server or in memory. */
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
  /** False for a run that must leave no trace (a dry run): a missing key file is not created. */
  persist?: boolean;
}

export interface LoadedSecretKey {
  key: Buffer;
  /** Where it came from: the environment, the key file, generated just now, or a throwaway. */
  source: 'env' | 'env-file' | 'file' | 'generated' | 'throwaway';
  /** The key file, when the key lives in one. */
  file?: string;
}

function readKeyFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DomainRefusal(`cannot read the secret key file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseSecretKey(text, `secret key file ${file}`);
}

/** Writes a new key with mode 0600; if another process won the race, its key is used. */
function generateKeyFile(file: string): { key: Buffer; generated: boolean } {
  const key = randomBytes(SECRET_KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { key: readKeyFile(file)!, generated: false };
    throw new DomainRefusal(`cannot create the secret key file ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  return { key, generated: true };
}

/**
 * The credential encryption key. IGNY8_SECRET_KEY wins; otherwise the embedded database's key
 * file is read, or generated once (mode 0600). A server without IGNY8_SECRET_KEY is refused.
 */
export function loadSecretKey(options: LoadSecretKeyOptions): LoadedSecretKey {
  const fromEnv = options.env[SECRET_KEY_ENV];
  const fromFile = options.env[SECRET_KEY_FILE_ENV];
  const given = fromEnv !== undefined && fromEnv.trim() !== '';
  if (given && fromFile) {
    throw new ValidationError(SECRET_KEY_FILE_ENV, `${SECRET_KEY_ENV} is set too: set one of them`);
  }
  if (given) return { key: parseSecretKey(fromEnv), source: 'env' };
  if (fromFile) {
    const key = readKeyFile(fromFile);
    if (!key) throw new ValidationError(SECRET_KEY_FILE_ENV, `the file ${fromFile} does not exist`);
    return { key, source: 'env-file', file: fromFile };
  }
  if (options.kind === 'pglite' && options.dataDir) {
    const file = secretKeyFile(options.dataDir);
    const existing = readKeyFile(file);
    if (existing) return { key: existing, source: 'file', file };
    if (options.persist === false) return { key: randomBytes(SECRET_KEY_BYTES), source: 'throwaway', file };
    const { key, generated } = generateKeyFile(file);
    return { key, source: generated ? 'generated' : 'file', file };
  }
  const where = options.kind === 'postgres' ? 'on a PostgreSQL server' : 'on an in-memory embedded database';
  throw new DomainRefusal(`${SECRET_KEY_ENV} is not set: it is required ${where} to encrypt stored credentials`, {
    code: 'secret-key-missing',
    details: [
      `set ${SECRET_KEY_ENV} to ${FORMAT} (or ${SECRET_KEY_FILE_ENV} to a file holding it), and keep it safe:`,
      'without the same key the encrypted credentials cannot be read back',
    ],
  });
}

/** Writes `key` over the key file, whole or not at all (mode 0600): the embedded database's key after a rotation. */
export function replaceSecretKeyFile(file: string, key: Buffer): void {
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, `${key.toString('hex')}\n`, { mode: 0o600 });
  renameSync(partial, file);
}

/** The key when one is given or kept (a malformed one is still refused), else undefined: for commands that only verify. */
export function findSecretKey(options: Omit<LoadSecretKeyOptions, 'persist'>): Buffer | undefined {
  try {
    const loaded = loadSecretKey({ ...options, persist: false });
    return loaded.source === 'throwaway' ? undefined : loaded.key;
  } catch (error) {
    if (error instanceof DomainRefusal && error.code === 'secret-key-missing') return undefined;
    throw error;
  }
}
