// The error model. Every failure the tool reports is one of these classes; src/cli.ts maps
// each class to its exit code in one place and prints one line.

export const ExitCode = {
  ok: 0,
  findings: 1,
  usage: 2,
  refused: 3,
  unreachable: 4,
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class Igny8Error extends Error {
  abstract readonly exitCode: ExitCode;
  /** Extra lines printed under the message (a difference list, a hint). */
  details: string[] = [];

  constructor(message: string, options?: { cause?: unknown; details?: string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.details) this.details = options.details;
  }
}

/** Bad flags or arguments: the user typed something the tool cannot understand. */
export class UsageError extends Igny8Error {
  readonly exitCode = ExitCode.usage;
}

/** Input that parses but is invalid; always names the field. */
export class ValidationError extends Igny8Error {
  readonly exitCode = ExitCode.usage;
  constructor(
    /** The input that is wrong, as the caller named it (`--account-name`, `accountName`). */
    readonly field: string,
    /** What is wrong with it, without its value. */
    readonly reason: string,
    options?: { cause?: unknown; details?: string[] },
  ) {
    super(`${field}: ${reason}`, options);
  }

  /** The same problem under the name the caller used for the field (a flag instead of a key). */
  renamed(field: string): ValidationError {
    return new ValidationError(field, this.reason, { cause: this, details: this.details });
  }
}

/** A domain rule said no: email taken, limit reached, a migration's precondition failed. */
export class DomainRefusal extends Igny8Error {
  readonly exitCode = ExitCode.refused;
  constructor(
    message: string,
    options?: { cause?: unknown; details?: string[]; code?: string },
  ) {
    super(message, options);
    this.code = options?.code;
  }
  readonly code: string | undefined;
}

/** The database cannot be reached, or refuses us (authentication, permission). */
export class DatabaseUnavailable extends Igny8Error {
  readonly exitCode = ExitCode.unreachable;
}

/** A bug or an unexpected database error: Postgres' code, detail and hint are kept. */
export class InternalError extends Igny8Error {
  readonly exitCode = ExitCode.internal;
}

interface PgLikeError {
  code?: string;
  detail?: string;
  hint?: string;
  message?: string;
  constraint?: string;
}

const UNREACHABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

/** What pg says when the connection went away under a query (a terminated backend, a restart). */
const CONNECTION_LOST =
  /Connection terminated|connection error and is not queryable|Client was closed|server closed the connection|terminating connection/i;

/**
 * Postgres SQLSTATEs that mean "you cannot use this database": connection exceptions (08),
 * invalid authorization (28), unknown database (3D000), server shutting down or the session
 * terminated (57P01..57P03).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('28') || code === '3D000' || code === '57P01' || code === '57P02' || code === '57P03';
}

/** The privilege a statement needed, read from its first keyword (knex keeps the SQL apart). */
function privilegeOf(sql: string | undefined): string | undefined {
  const verb = /^\s*(?:with\b[\s\S]*?\)\s*)?(select|insert|update|delete|truncate|create|alter|drop|copy|lock)\b/i.exec(sql ?? '')?.[1];
  if (!verb) return undefined;
  const upper = verb.toUpperCase();
  if (upper === 'CREATE') return 'CREATE';
  if (upper === 'ALTER' || upper === 'DROP') return 'ownership';
  return upper;
}

function permissionDenied(e: PgLikeError & { sql?: string }, error: unknown): DatabaseUnavailable {
  const object = /permission denied for (\w+) "?([^"\s]+)"?/i.exec(e.message ?? '');
  const privilege = privilegeOf(e.sql);
  const what = object ? `${object[1]} ${object[2]}` : 'an object it needs';
  const message = privilege
    ? `permission denied: this role lacks ${privilege} on ${what}`
    : `permission denied on ${what}`;
  return new DatabaseUnavailable(message, {
    cause: error,
    details: ['hint: docs/privileges.md lists the grants each command needs'],
  });
}

/** Classifies anything thrown into the error model. */
export function classifyError(error: unknown): Igny8Error {
  if (error instanceof Igny8Error) return error;
  const e = (error ?? {}) as PgLikeError & { errors?: unknown[]; sql?: string };
  // pg wraps multi-address connection failures in an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) {
    return classifyError(error.errors[0]);
  }
  const code = typeof e.code === 'string' ? e.code : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === SqlState.insufficientPrivilege) return permissionDenied(e, error);
  if (code === '57P01' || code === '57P02' || CONNECTION_LOST.test(message)) {
    return new DatabaseUnavailable(`the connection to the database was lost: ${message}`, {
      cause: error,
      details: ['nothing of the interrupted transaction was kept; run the command again once the database is back'],
    });
  }
  if (UNREACHABLE_NODE_CODES.has(code) || isUnavailableSqlState(code)) {
    return new DatabaseUnavailable(`database unreachable or access denied: ${message || code}`, {
      cause: error,
    });
  }
  if (error instanceof Error && /Timeout acquiring a connection/i.test(error.message)) {
    return new DatabaseUnavailable(`database unreachable: ${error.message}`, { cause: error });
  }
  if (code === SqlState.lockNotAvailable) {
    return new LockTimeout(message, { cause: error });
  }
  const details: string[] = [];
  if (code) details.push(`SQLSTATE ${code}`);
  if (e.detail) details.push(`detail: ${e.detail}`);
  if (e.hint) details.push(`hint: ${e.hint}`);
  return new InternalError(message, { cause: error, details });
}

/**
 * A lock was not granted within lock_timeout: another session holds the table. A refusal
 * (exit 3), not a bug: it is safe to run again. The error boundary adds who holds the lock.
 */
export class LockTimeout extends DomainRefusal {
  constructor(message: string, options?: { cause?: unknown; details?: string[] }) {
    super(`a table lock was not granted in time (${message}); nothing was changed by the statement that waited`, {
      ...options,
      code: 'lock-timeout',
    });
  }
}

/** The Postgres SQLSTATE of an error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as PgLikeError | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const SqlState = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  lockNotAvailable: '55P03',
  queryCanceled: '57014',
  insufficientPrivilege: '42501',
} as const;
