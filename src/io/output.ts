// Everything the CLI prints goes through here: secrets are scrubbed from every line,
// --json keeps stdout for the one machine-readable document, --quiet silences notices,
// colour is decided by src/io/color.ts for each stream, spinners appear only on a TTY.
import { Chalk, type ChalkInstance } from 'chalk';
import { colorLevel } from './color.js';
import { scrubSecrets } from '../secrets.js';
import { outputWidth, wrapText } from '../render/text.js';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env?: NodeJS.ProcessEnv;
}

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

const NO_SPINNER: Spinner = { update() {}, succeed() {}, fail() {}, stop() {} };

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Colour for stdout. */
  readonly color: ChalkInstance;
  /** No colour: for what goes into files. */
  readonly plainColor: ChalkInstance = new Chalk({ level: 0 });
  /** Colour for stderr, which may be a terminal while stdout is piped, or the other way round. */
  private readonly errorColor: ChalkInstance;
  /** The widest a line of stdout may be: tables and long lines are fitted to it. */
  readonly width: number;
  private readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

  constructor(options: OutputOptions = {}) {
    const env = options.env ?? process.env;
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.color = new Chalk({ level: colorLevel({ flag: options.color, env, stream: this.stdout }) });
    this.errorColor = new Chalk({ level: colorLevel({ flag: options.color, env, stream: this.stderr }) });
    this.width = outputWidth(this.stdout, env);
  }

  /** The command's result for a person; nothing when --json is on. */
  print(text = ''): void {
    if (!this.json) this.stdout.write(`${scrubSecrets(text)}\n`);
  }

  private documentContext: Record<string, unknown> = {};

  /** Fields every JSON document carries from now on (the database the command works on). */
  setDocumentContext(fields: Record<string, unknown>): void {
    this.documentContext = { ...this.documentContext, ...fields };
  }

  /** Like print, wrapped on word boundaries to the output width (for prose, never for data). */
  printWrapped(text: string): void {
    for (const line of wrapText(text, this.width)) this.print(line);
  }

  /** The command's result for a machine: one JSON document on stdout. */
  data(value: unknown): void {
    const document =
      value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...this.documentContext, ...value } : value;
    this.stdout.write(`${scrubSecrets(JSON.stringify(document, jsonReplacer, 2))}\n`);
  }

  /** Renders for people or machines in one call. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.data(value);
    else human();
  }

  /**
   * A step of long work as it happens (a migration applied): part of the result for a person
   * (stdout), on stderr under --json so stdout keeps its one document.
   */
  progress(text: string): void {
    if (this.json) this.info(text);
    else this.print(text);
  }

  /** A notice about progress or context, on stderr; silenced by --quiet. */
  info(text: string): void {
    if (!this.quiet) this.stderr.write(`${scrubSecrets(text)}\n`);
  }

  /** A warning the user should see even with --json; silenced only by --quiet. */
  warn(text: string): void {
    if (!this.quiet) this.stderr.write(`${this.errorColor.yellow('warning:')} ${scrubSecrets(text)}\n`);
  }

  /** An error line, always shown. */
  error(text: string): void {
    this.stderr.write(`${this.errorColor.red('error:')} ${scrubSecrets(text)}\n`);
  }

  /**
   * A spinner on stderr while long work runs, only when stderr is a terminal that reports its
   * width: a spinner redraws by counting wrapped lines, and on a terminal of 0 columns (some
   * CI pseudo-terminals) that count is endless and every frame floods the log.
   */
  async spinner(text: string): Promise<Spinner> {
    if (this.quiet || !this.stderr.isTTY || !this.stderr.columns) return NO_SPINNER;
    const { default: ora } = await import('ora');
    // ora colours by chalk's own rules: its colour and symbols come from here instead.
    const colored = this.errorColor.level > 0;
    const spinner = ora({ text: scrubSecrets(text), stream: this.stderr, color: colored ? 'cyan' : false }).start();
    const stop = (symbol: string, next?: string) =>
      void spinner.stopAndPersist({ symbol, text: next === undefined ? undefined : scrubSecrets(next) });
    return {
      update: (next) => {
        spinner.text = scrubSecrets(next);
      },
      succeed: (next) => stop(this.errorColor.green('✔'), next),
      fail: (next) => stop(this.errorColor.red('✖'), next),
      stop: () => void spinner.stop(),
    };
  }
}

/** Dates as ISO strings, bigints as numbers where safe, errors as messages. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
