// Help and colour as a user meets them, from the built CLI as a child process: every help
// within 80 columns with the global options, required options marked and defaults shown one
// way; colour on or off as --no-color > NO_COLOR > FORCE_COLOR > the terminal decide, on
// stdout and stderr alike. A terminal is a real pseudo-terminal (util-linux `script`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, leakedSecrets, runCli } from './helpers/cli.js';

const COMMANDS = [
  [],
  ['migrate'],
  ['migrate', 'latest'],
  ['migrate', 'status'],
  ['migrate', 'down'],
  ['migrate', 'adopt'],
  ['catalog'],
  ['catalog', 'sync'],
  ['catalog', 'show'],
  ['register'],
  ['create-site'],
  ['create-sector'],
  ['grant-credits'],
  ['debit-credits'],
  ['change-plan'],
  ['invoice'],
  ['invoice', 'pay'],
  ['invoice', 'void'],
  ['billing'],
  ['billing', 'run'],
  ['account'],
  ['account', 'show'],
  ['audit'],
  ['seed'],
  ['seed', 'legacy'],
  ['repair'],
  ['demo'],
];
const GLOBAL_OPTIONS = ['--database-url <url>', '--json', '-q, --quiet', '--verbose', '--no-color'];
const ESC = '\u001b[';

/** Help text of `igny8 ...command --help`, piped. */
async function help(command: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const result = await runCli([...command, '--help'], { env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** The option line of a help text (with its wrapped continuation lines), by the option's flag. */
function optionEntry(text: string, flag: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trimStart().startsWith(flag));
  expect(start, `${flag} in help`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => !/^ {10,}\S/.test(line));
  return [lines[start], ...rest.slice(0, end < 0 ? rest.length : end)].join(' ').replace(/\s+/g, ' ').trim();
}

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs igny8 on a pseudo-terminal of `columns` columns: stdout and stderr are both that terminal. */
function onTerminal(args: string[], env: Record<string, string | undefined>, columns = 100): Promise<string> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${columns}; ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', () => {
      if (leakedSecrets(output).length > 0) reject(new Error('a secret reached the terminal'));
      else resolve(output.replace(/\r/g, ''));
    });
  });
}

describe('igny8 --help', () => {
  for (const command of COMMANDS) {
    const name = ['igny8', ...command].join(' ');
    it(`${name} --help: every line within 80 columns, the global options listed`, async () => {
      const text = await help(command, { COLUMNS: '200' });
      const over = text.split('\n').filter((line) => [...line].length > 80);
      expect(over).toEqual([]);
      const globals = command.length === 0 ? text.slice(text.indexOf('Options:'), text.indexOf('Commands:')) : text.slice(text.indexOf('Global Options:'));
      for (const option of GLOBAL_OPTIONS) expect(globals).toContain(option);
      // Defaults are shown one way: `(default: 10)`, never a quoted "10".
      expect(text).not.toMatch(/default: "/);
      expect(text).not.toMatch(/\(default [^:]/);
    });
  }

  it('igny8 audit --help lists the global options under their own heading', async () => {
    const text = await help(['audit']);
    const globals = text.slice(text.indexOf('Global Options:'), text.indexOf('Checks ('));
    expect(globals.split('\n').filter((line) => line.startsWith('  -'))).toHaveLength(6); // --version and the five above
    for (const option of GLOBAL_OPTIONS) expect(globals).toContain(option);
    expect(optionEntry(text, '--sample')).toBe('--sample <n> example rows per check (default: 3)');
  });

  it('marks required options, and only those', async () => {
    const register = await help(['register']);
    for (const flag of ['--email', '--account-name', '--plan']) expect(optionEntry(register, flag)).toMatch(/\(required\)$/);
    for (const flag of ['--password-stdin', '--payment-method', '--billing-email', '--first-name']) {
      expect(optionEntry(register, flag)).not.toContain('required');
    }
    const site = await help(['create-site']);
    for (const flag of ['--account', '--name', '--domain', '--industry']) expect(optionEntry(site, flag)).toMatch(/\(required\)$/);
    expect(optionEntry(site, '--by')).not.toContain('required');
    expect(optionEntry(await help(['seed', 'legacy']), '--accounts')).toMatch(/\(required\)$/);
  });

  it('shows defaults as (default: value)', async () => {
    expect(optionEntry(await help(['account', 'show']), '--ledger')).toMatch(/\(default: 10\)$/);
    expect(optionEntry(await help(['repair']), '--batch-size')).toMatch(/\(default: 10000\)$/);
    expect(optionEntry(await help(['migrate', 'latest']), '--lock-timeout')).toMatch(/\(default: 10s\)$/);
    expect(optionEntry(await help(['grant-credits']), '--type')).toMatch(/\(one of: adjustment, purchase, subscription, refund; default: adjustment\)$/);
  });

  it('documents IGNY8_DEBUG, NO_COLOR, FORCE_COLOR and COLUMNS', async () => {
    const text = await help([]);
    expect(text).toMatch(/IGNY8_DEBUG=1 +as --verbose, plus the stack of an internal error \(exit 70\)/);
    expect(text).toMatch(/NO_COLOR=1/);
    expect(text).toMatch(/FORCE_COLOR=1/);
    expect(text).toMatch(/COLUMNS=N/);
  });

  describe.skipIf(!hasScript)('on a terminal', () => {
    for (const columns of [60, 200]) {
      it(`fits a terminal of ${columns} columns, and never more than 80`, async () => {
        const text = await onTerminal(['audit', '--help'], { NO_COLOR: '1' }, columns);
        expect(text).toContain('Global Options:');
        const over = text.split('\n').filter((line) => [...line].length > Math.min(columns, 80));
        expect(over).toEqual([]);
      });
    }
  });
});

describe('colour', () => {
  let dir: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'igny8-color-'));
    // Nothing inherited decides colour but what each test sets.
    env = { IGNY8_DATA_DIR: path.join(dir, 'db'), NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, TERM: 'xterm-256color' };
    const migrated = await runCli(['migrate'], { env });
    expect(migrated.code, migrated.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Whether stdout (`migrate status`, green ticks) and stderr (an `error:` line) carry colour, piped. */
  async function piped(extra: Record<string, string>, flags: string[] = []): Promise<{ stdout: boolean; stderr: boolean }> {
    const status = await runCli([...flags, 'migrate', 'status'], { env: { ...env, ...extra } });
    expect(status.code, status.stderr).toBe(0);
    const refused = await runCli([...flags, 'audit', '--sample', 'many'], { env: { ...env, ...extra } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error:');
    return { stdout: status.stdout.includes(ESC), stderr: refused.stderr.includes(ESC) };
  }

  const PIPED: Array<[string, Record<string, string>, string[], boolean]> = [
    ['nothing set', {}, [], false],
    ['FORCE_COLOR=1', { FORCE_COLOR: '1' }, [], true],
    ['FORCE_COLOR=2', { FORCE_COLOR: '2' }, [], true],
    ['FORCE_COLOR=3', { FORCE_COLOR: '3' }, [], true],
    ['FORCE_COLOR=true', { FORCE_COLOR: 'true' }, [], true],
    ['FORCE_COLOR= (empty)', { FORCE_COLOR: '' }, [], true],
    ['FORCE_COLOR=0', { FORCE_COLOR: '0' }, [], false],
    ['FORCE_COLOR=false', { FORCE_COLOR: 'false' }, [], false],
    ['NO_COLOR=1', { NO_COLOR: '1' }, [], false],
    ['NO_COLOR=1 over FORCE_COLOR=1', { NO_COLOR: '1', FORCE_COLOR: '1' }, [], false],
    ['--no-color over FORCE_COLOR=1', { FORCE_COLOR: '1' }, ['--no-color'], false],
    ['--no-color over FORCE_COLOR=3', { FORCE_COLOR: '3' }, ['--no-color'], false],
    ['an empty NO_COLOR is not set (no-color.org)', { NO_COLOR: '', FORCE_COLOR: '1' }, [], true],
  ];
  for (const [name, extra, flags, on] of PIPED) {
    it(`piped, ${name}: colour ${on ? 'on' : 'off'} on stdout and stderr`, async () => {
      expect(await piped(extra, flags)).toEqual({ stdout: on, stderr: on });
    });
  }

  describe.skipIf(!hasScript)('on a terminal', () => {
    const TERMINAL: Array<[string, Record<string, string>, string[], boolean]> = [
      ['nothing set', {}, [], true],
      ['NO_COLOR=1', { NO_COLOR: '1' }, [], false],
      ['FORCE_COLOR=0', { FORCE_COLOR: '0' }, [], false],
      ['--no-color', {}, ['--no-color'], false],
      ['TERM=dumb', { TERM: 'dumb' }, [], false],
    ];
    for (const [name, extra, flags, on] of TERMINAL) {
      it(`${name}: colour ${on ? 'on' : 'off'}`, async () => {
        const output = await onTerminal([...flags, 'migrate', 'status'], { ...env, ...extra });
        expect(output).toContain('0001_legacy_baseline');
        expect(output.includes(ESC)).toBe(on);
      });
    }
  });
});
