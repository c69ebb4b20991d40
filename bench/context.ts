// What every bench section receives.
import { randomBytes } from 'node:crypto';
import type { BenchOptions } from './options.js';
import type { Server } from './postgres.js';
import { hasCommand } from './process.js';
import type { Recorder } from './result.js';

export interface BenchContext {
  options: BenchOptions;
  server: Server;
  rec: Recorder;
  /** A progress line on stderr (silenced by --quiet). */
  log(message: string): void;
  /** IGNY8_SECRET_KEY for children that encrypt credentials (made fresh for each run). */
  secretKey: string;
  /** Whether `igny8 <words>` exists in the built CLI (asked once per command). */
  has(words: string[]): Promise<boolean>;
}

export function createContext(options: BenchOptions, server: Server, rec: Recorder): BenchContext {
  const known = new Map<string, Promise<boolean>>();
  return {
    options,
    server,
    rec,
    log: (message) => {
      if (!options.quiet) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
    },
    secretKey: randomBytes(32).toString('hex'),
    has(words) {
      const key = words.join(' ');
      let answer = known.get(key);
      if (!answer) known.set(key, (answer = hasCommand(words)));
      return answer;
    },
  };
}

export function notAvailable(command: string): string {
  return `not available yet: \`igny8 ${command}\` is not in the built CLI`;
}
