// Runs the built igny8 as a child process, as a user does, and checks on every run that
// no known secret reached stdout or stderr.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/igny8', import.meta.url));

/** Secrets the tests use; no igny8 output anywhere in the suite may contain them. */
export const TEST_SECRETS = new Set<string>(['Sup3r-Secret-Pa55', 'wp-app-pa55-ünïcödé', 'sk_live_wp_api_key_123', 'Hunter2-Url-Pass']);

export function registerTestSecret(secret: string): void {
  TEST_SECRETS.add(secret);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

export function leakedSecrets(text: string): string[] {
  return [...TEST_SECRETS].filter((secret) => text.includes(secret));
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...options.env };
    delete env.DATABASE_URL;
    if (options.env?.DATABASE_URL) env.DATABASE_URL = options.env.DATABASE_URL;
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const leaks = leakedSecrets(stdout + stderr);
      if (leaks.length > 0) {
        reject(new Error(`igny8 ${args.join(' ')} printed a secret (${leaks.length} found)`));
        return;
      }
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** stderr without the line every command writes naming its database: what else was said. */
export function stderrBesidesDatabase(stderr: string): string {
  return stderr.replace(/^database: .*\n/m, '');
}
