// Spinners appear only where they can redraw (a terminal that reports its width); colour is
// decided per stream.
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Output } from '../../src/io/output.js';

type Terminal = Writable & { isTTY: boolean; columns?: number; written: string; cursorTo(): boolean; clearLine(): boolean; moveCursor(): boolean };

/** A terminal as a spinner sees one: a TTY with a width and cursor movements. */
function terminal(columns: number | undefined): Terminal {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.written += String(chunk);
      done();
    },
  }) as Terminal;
  stream.isTTY = true;
  stream.cursorTo = stream.clearLine = stream.moveCursor = () => true;
  stream.columns = columns;
  stream.written = '';
  return stream;
}

describe('spinner', () => {
  // The spinner library stays silent under CI or a dumb terminal: make this one interactive.
  beforeEach(() => {
    vi.stubEnv('CI', undefined);
    vi.stubEnv('TERM', 'xterm-256color');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('draws on a terminal that reports its width', async () => {
    const stderr = terminal(80);
    const spinner = await new Output({ stderr, stdout: terminal(80) }).spinner('migrating');
    spinner.succeed('migrated');
    expect(stderr.written).toContain('migrated');
  });

  for (const columns of [0, undefined]) {
    it(`writes nothing on a terminal of ${String(columns)} columns`, async () => {
      const stderr = terminal(columns);
      const spinner = await new Output({ stderr, stdout: terminal(80) }).spinner('migrating');
      spinner.update('still migrating');
      spinner.succeed('migrated');
      expect(stderr.written).toBe('');
    });
  }
});

describe('colour per stream', () => {
  const piped = () => Object.assign(terminal(undefined), { isTTY: false });

  it('colours an error on a terminal while stdout is piped, and not the other way round', () => {
    const stderr = terminal(80);
    const out = new Output({ stdout: piped(), stderr, env: {} });
    expect(out.color.level).toBe(0);
    out.error('boom');
    expect(stderr.written).toContain('\u001b[31merror:');

    const pipedErr = piped();
    const reversed = new Output({ stdout: terminal(80), stderr: pipedErr, env: {} });
    expect(reversed.color.level).toBeGreaterThan(0);
    reversed.error('boom');
    expect(pipedErr.written).toBe('error: boom\n');
  });

  it('--no-color, then NO_COLOR, then FORCE_COLOR, then the terminal', () => {
    const level = (color: boolean | undefined, env: NodeJS.ProcessEnv, tty: boolean) =>
      new Output({ color, env, stdout: tty ? terminal(80) : piped(), stderr: piped() }).color.level;
    expect(level(false, { FORCE_COLOR: '3' }, true)).toBe(0);
    expect(level(undefined, { NO_COLOR: '1', FORCE_COLOR: '3' }, true)).toBe(0);
    expect(level(undefined, { NO_COLOR: '', FORCE_COLOR: '2' }, false)).toBe(2);
    expect(level(undefined, { FORCE_COLOR: '0' }, true)).toBe(0);
    expect(level(undefined, { FORCE_COLOR: '7' }, false)).toBe(3);
    expect(level(undefined, {}, true)).toBe(1);
    expect(level(undefined, {}, false)).toBe(0);
  });
});
