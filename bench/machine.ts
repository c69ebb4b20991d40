// The machine the figures were measured on: figures without it mean little.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Server } from './postgres.js';

function command(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export interface MachineFacts {
  nproc: string | undefined;
  cpu: string;
  memory: string;
  freeH: string | undefined;
  kernel: string;
  node: string;
  postgres: Record<string, string>;
  gitCommit: string | undefined;
  /** 1, 5 and 15 minute load averages when the run started: others' work skews figures. */
  loadAverageAtStart: string;
}

export function loadAverage(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join(' ');
}

export async function machineFacts(server: Server): Promise<MachineFacts> {
  return {
    nproc: command('nproc', []),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    freeH: command('free', ['-h']),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: await server.facts(),
    gitCommit: command('git', ['rev-parse', '--short', 'HEAD']),
    loadAverageAtStart: loadAverage(),
  };
}
