// igny8.config.json, one file for what a team tunes:
// - audit.checks: per check, a severity override, count thresholds (warnAbove, errorAbove: a
//   count at or below them does not fail), or `enabled: false` (as dbt's severity/warn_if/
//   error_if and Soda's warn/fail thresholds);
// - audit.suppressions: silence a whole check, or single rows by their sample key, always with
//   a reason and optionally until a date; an expired one turns back into a finding and says so;
// - billing.graceDays: how long an overdue invoice is tolerated before the account is suspended.
// Invalid config names the key path. igny8.config.schema.json is generated from configSchema.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RULE_IDS } from '../rules/registry.js';
import { ValidationError } from '../errors.js';

export const DEFAULT_CONFIG_FILE = 'igny8.config.json';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'not a real date');

const knownCheck = z.enum(RULE_IDS as [string, ...string[]], { error: 'unknown check id' });

const suppressionSchema = z
  .object({
    check: knownCheck.describe('the check id (igny8 audit --list)'),
    /** Sample keys (e.g. "user:123"); absent = the whole check. */
    keys: z.array(z.string().min(1).max(500)).min(1).optional().describe('sample keys to silence, e.g. "user:123"; absent: the whole check'),
    reason: z.string().trim().min(1, 'a reason is required').describe('why, for whoever reads the report'),
    /** Last day the suppression holds (inclusive, UTC). */
    until: isoDate.optional().describe('the last day (UTC) the suppression holds'),
  })
  .strict();

const count = z.number().int().min(0);

const checkTuningSchema = z
  .object({
    /** Overrides the check's own severity. */
    severity: z.enum(['error', 'warning']).optional().describe("replaces the check's own severity"),
    /** Findings up to this count are tolerated; above it they are warnings. */
    warnAbove: count.optional().describe('findings up to this count are tolerated; above it they are warnings'),
    /** Findings above this count are errors. */
    errorAbove: count.optional().describe('findings above this count are errors'),
    /** false: the check does not run (reported as disabled). */
    enabled: z.boolean().optional().describe('false: the check does not run'),
  })
  .strict()
  .refine((tuning) => tuning.warnAbove === undefined || tuning.errorAbove === undefined || tuning.warnAbove <= tuning.errorAbove, {
    message: 'warnAbove must not be above errorAbove',
  });


export const configSchema = z
  .object({
    $schema: z.string().optional(),
    audit: z
      .object({
        checks: z.partialRecord(knownCheck, checkTuningSchema).optional().describe('tuning per check id'),
        suppressions: z.array(suppressionSchema).default([]),
      })
      .strict()
      .optional(),
    billing: z
      .object({
        /** Days an invoice may stay overdue before its account is suspended. */
        graceDays: z.number().int().min(0).max(365).default(14).describe('days an invoice may stay overdue before the account is suspended'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Suppression = z.infer<typeof suppressionSchema>;
export type CheckTuning = z.infer<typeof checkTuningSchema>;

export interface AuditConfig {
  file: string | null;
  checks: Partial<Record<string, CheckTuning>>;
  suppressions: Suppression[];
  graceDays: number;
}

export const DEFAULT_GRACE_DAYS = 14;

function keyPath(pathParts: PropertyKey[]): string {
  return pathParts.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text ? `${text}.${String(part)}` : String(part);
  }, '');
}

export function parseConfig(value: unknown, file: string): AuditConfig {
  const result = configSchema.safeParse(value);
  if (!result.success) {
    const [issue] = result.error.issues;
    const where = issue.code === 'unrecognized_keys' ? keyPath([...issue.path, issue.keys[0]]) : keyPath(issue.path);
    throw new ValidationError(where || '(root)', `${issue.message} (in ${file})`, { cause: result.error });
  }
  return {
    file,
    checks: result.data.audit?.checks ?? {},
    suppressions: result.data.audit?.suppressions ?? [],
    graceDays: result.data.billing?.graceDays ?? DEFAULT_GRACE_DAYS,
  };
}

/**
 * Reads the config named by --config, or ./igny8.config.json when present. A named file that
 * does not exist is an error; no default file means no suppressions.
 */
export function loadAuditConfig(explicit: string | undefined, cwd = process.cwd()): AuditConfig {
  const file = path.resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (explicit !== undefined) throw new ValidationError('--config', `no such file: ${file}`);
    return { file: null, checks: {}, suppressions: [], graceDays: DEFAULT_GRACE_DAYS };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError('--config', `${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(parsed, file);
}

/** Today as YYYY-MM-DD in UTC: suppressions expire at the end of their `until` day. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export function isActive(suppression: Suppression, now: Date): boolean {
  return suppression.until === undefined || suppression.until >= utcDay(now);
}

export interface CheckSuppressions {
  /** An active whole-check suppression. */
  whole?: Suppression;
  /** Keys silenced now. */
  activeKeys: string[];
  /** Suppressions that have expired: their rows count again, and the report says so. */
  expired: Suppression[];
}

export function suppressionsFor(checkId: string, suppressions: readonly Suppression[], now: Date): CheckSuppressions {
  const mine = suppressions.filter((suppression) => suppression.check === checkId);
  const active = mine.filter((suppression) => isActive(suppression, now));
  return {
    whole: active.find((suppression) => suppression.keys === undefined),
    activeKeys: [...new Set(active.flatMap((suppression) => suppression.keys ?? []))],
    expired: mine.filter((suppression) => !isActive(suppression, now)),
  };
}

/** igny8.config.json's JSON Schema, generated from configSchema (editors validate the file with it). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://igny8.dev/igny8.config.schema.json',
    title: 'igny8.config.json',
    description: 'Audit tuning and suppressions, and billing settings, for igny8',
  };
}
