// Spinners appear only where they can redraw: a terminal that reports its width.
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
