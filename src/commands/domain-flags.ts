// Shared by the domain commands: domain errors name the input (`industrySector`), the user
// typed a flag (`--industry-sector`); and the password comes from stdin, or from argv with a
// warning.
import { UsageError, ValidationError } from '../errors.js';
import { MAX_PASSWORD_LENGTH } from '../domain/inputs.js';
import { registerSecret } from '../secrets.js';
import type { Runtime } from './runtime.js';

function toFlag(field: string): string {
  if (field.startsWith('-')) return field;
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Runs a domain call; a ValidationError it throws is renamed to the flag the user typed. */
export async function withFlagNames<T>(work: () => Promise<T>, rename: Record<string, string> = {}): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ValidationError && !error.field.startsWith('-')) {
      throw error.renamed(rename[error.field] ?? toFlag(error.field));
    }
    throw error;
  }
}

/** More than any password could be: stdin is not read without bound. */
const STDIN_LIMIT = 64 * 1024;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > STDIN_LIMIT) throw new ValidationError('--password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The password from stdin (`--password-stdin`: everything up to EOF, one trailing newline
 * removed) or from `--password` (accepted with a warning: other users can read a process'
 * arguments, and shells keep them in history).
 */
export async function readPassword(
  runtime: Runtime,
  options: { passwordStdin?: boolean; password?: string },
): Promise<string> {
  if (options.passwordStdin && options.password !== undefined) {
    throw new UsageError('give the password either with --password-stdin or with --password, not both');
  }
  if (options.password !== undefined) {
    registerSecret(options.password);
    runtime.out.warn('a password on the command line can be read by other users and is kept in shell history; use --password-stdin');
    return options.password;
  }
  if (!options.passwordStdin) {
    throw new UsageError('a password is required: pipe it with --password-stdin (or, less safely, --password)');
  }
  if (runtime.stdin.isTTY) runtime.out.info('password (end with Ctrl-D):');
  const password = (await readAll(runtime.stdin)).replace(/\r?\n$/, '');
  registerSecret(password);
  return password;
}
