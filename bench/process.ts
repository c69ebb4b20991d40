// Runs the built igny8 as a child process, as a user runs it, and measures the wall time
// from spawn to exit and the child's peak resident memory.
//
// Peak RSS comes from GNU time's `%M` (the kernel's ru_maxrss of the child, exact) when
// /usr/bin/time is GNU time; otherwise /proc/<pid>/status VmHWM is sampled every 20 ms,
// which can miss a peak in the child's last 20 ms.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The igny8 under measurement: the working tree's bin/igny8, or a snapshot of it. */
export let BIN = fileURLToPath(new URL('../bin/igny8', import.meta.url));
export function useBin(bin: string): void {
  BIN = bin;
}
const GNU_TIME = '/usr/bin/time';

export interface ChildRun {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
  /** Spawn to exit, in milliseconds. */
  ms: number;
  /** Peak resident set size in MiB, when measured. */
  peakRssMb: number | undefined;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** Measure peak memory (adds GNU time around the child, ~1 ms). */
  memory?: boolean;
  timeoutMs?: number;
}

let gnuTime: boolean | undefined;
function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    const probe = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
    gnuTime = probe.status === 0 && /^\d+\s*$/m.test(probe.stderr);
  }
  return gnuTime;
}

/** How peak memory is measured on this machine, for the report. */
export function memoryMethod(): string {
  return hasGnuTime() ? 'GNU time %M (ru_maxrss of the igny8 process)' : '/proc/<pid>/status VmHWM sampled every 20 ms';
}

function childEnv(extra: Record<string, string | undefined> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // The child must see only the database the bench points it at.
  delete env.DATABASE_URL;
  delete env.IGNY8_DATA_DIR;
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runIgny8(args: string[], options: RunOptions = {}): Promise<ChildRun> {
  return runNode([BIN, ...args], args, options);
}

/**
 * Runs an ES module snippet in a bare Node process, from the directory of the CLI under
 * measurement (so it resolves the same packages): the floor a command cannot go below.
 */
export function runNodeScript(code: string, options: RunOptions = {}): Promise<ChildRun> {
  return runNode(['--input-type=module', '-e', code], ['(node script)'], { ...options, cwd: path.dirname(path.dirname(BIN)) });
}

function runNode(nodeArgs: string[], args: string[], options: RunOptions & { cwd?: string }): Promise<ChildRun> {
  const useTime = options.memory === true && hasGnuTime();
  const scratch = useTime ? mkdtempSync(path.join(tmpdir(), 'igny8-bench-')) : undefined;
  const timeFile = scratch ? path.join(scratch, 'time') : undefined;
  const [command, commandArgs] = timeFile
    ? [GNU_TIME, ['-f', '%M', '-o', timeFile, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, commandArgs, { env: childEnv(options.env), cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sampledKb = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const sampler =
      options.memory && !useTime
        ? setInterval(() => {
            try {
              const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
              const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
              sampledKb = Math.max(sampledKb, kb);
            } catch {
              // the child has exited between two samples
            }
          }, 20)
        : undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      let peakKb: number | undefined = options.memory ? sampledKb || undefined : undefined;
      if (timeFile) {
        try {
          // GNU time writes "Command exited with non-zero status N" before the figure.
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          peakKb = Number(lines[lines.length - 1]);
        } catch {
          peakKb = undefined;
        }
        rmSync(scratch!, { recursive: true, force: true });
      }
      resolve({
        args,
        code: code ?? (signal ? 128 : -1),
        stdout,
        stderr,
        ms,
        peakRssMb: peakKb === undefined ? undefined : peakKb / 1024,
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** True when `igny8 <words> --help` exists (commander exits 0 for a known command). */
export async function hasCommand(words: string[]): Promise<boolean> {
  const run = await runIgny8([...words, '--help']);
  if (run.code !== 0) return false;
  // commander prints the parent's help for an unknown sub-command of a known one.
  const usage = /^Usage: igny8 (.*)$/m.exec(run.stdout)?.[1] ?? '';
  return usage.startsWith(words.join(' '));
}

/** The last lines of a failed child's stderr, for the report. */
export function failureText(run: ChildRun): string {
  const lines = (run.stderr.trim() || run.stdout.trim()).split('\n').filter((line) => line.trim() !== '');
  // The first lines carry the message (a stack trace follows an internal error).
  const text = lines.slice(0, 3).join(' | ');
  return `igny8 ${run.args.join(' ')}: exit ${run.code}: ${text.slice(0, 500)}`;
}
