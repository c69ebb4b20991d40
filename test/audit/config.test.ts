// igny8.config.json: per-check tuning as dbt and Soda users tune (severity, thresholds,
// enabled), its JSON Schema shipped beside the package and generated from the same definition.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, parseConfig } from '../../src/audit/config.js';
import { grade } from '../../src/audit/run.js';
import { ValidationError } from '../../src/errors.js';

describe('tuning a check', () => {
  it.each([
    // [base, tuning, count, severity, tolerated]
    ['error', undefined, 3, 'error', false],
    ['error', { severity: 'warning' }, 3, 'warning', false],
    ['error', { warnAbove: 10 }, 10, 'error', true],
    ['error', { warnAbove: 10 }, 11, 'error', false],
    ['error', { errorAbove: 100 }, 50, 'warning', false],
    ['error', { errorAbove: 100 }, 101, 'error', false],
    ['warning', { errorAbove: 100 }, 101, 'error', false],
    ['warning', { warnAbove: 5 }, 5, 'warning', true],
    ['warning', { warnAbove: 5 }, 6, 'warning', false],
    ['warning', { warnAbove: 5, errorAbove: 20 }, 21, 'error', false],
  ] as const)('%s check, %j, %i findings → %s (tolerated: %s)', (base, tuning, count, severity, tolerated) => {
    expect(grade(base, tuning, count)).toMatchObject({ severity, tolerated });
  });
});

describe('igny8.config.json', () => {
  it('reads tuning, suppressions and billing settings', () => {
    const config = parseConfig(
      {
        audit: { checks: { 'credit-balance-drift': { warnAbove: 10 } }, suppressions: [{ check: 'duplicate-emails', reason: 'known' }] },
        billing: { graceDays: 30 },
      },
      'igny8.config.json',
    );
    expect(config).toMatchObject({ checks: { 'credit-balance-drift': { warnAbove: 10 } }, graceDays: 30 });
    expect(parseConfig({}, 'x').graceDays).toBe(14);
  });

  it.each([
    [{ audit: { checks: { 'no-such-check': { enabled: false } } } }, /audit\.checks\.no-such-check|unknown check id/],
    [{ audit: { checks: { 'orphan-users': { severity: 'fatal' } } } }, /audit\.checks\.orphan-users\.severity/],
    [{ audit: { checks: { 'orphan-users': { warnAbove: 5, errorAbove: 2 } } } }, /warnAbove must not be above errorAbove/],
    [{ audit: { checks: { 'orphan-users': { treshold: 5 } } } }, /audit\.checks\.orphan-users\.treshold/],
    [{ billing: { graceDays: -1 } }, /billing\.graceDays/],
  ])('refuses %j naming the key path', (value, message) => {
    expect(() => parseConfig(value, 'igny8.config.json')).toThrow(ValidationError);
    expect(() => parseConfig(value, 'igny8.config.json')).toThrow(message);
  });

  it('ships igny8.config.schema.json as generated from the definition igny8 validates with', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../igny8.config.schema.json', import.meta.url), 'utf8'));
    expect(shipped).toEqual(configJsonSchema());
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('igny8.config.schema.json');
  });
});
