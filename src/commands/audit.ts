// igny8 audit: runs the integrity checks and gates CI through the exit code. Three actions
// share the command: --list (the checks), --history (recorded runs) and the run itself.
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadAuditConfig, type AuditConfig } from '../audit/config.js';
import { auditHistory, historyTablesPresent, type RecordedRun } from '../audit/history.js';
import { pruneHistory } from '../audit/prune.js';
import { runAudit, type IncrementalScope } from '../audit/run.js';
import { plural } from '../render/text.js';
import { RULE_IDS, RULES, findRule } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import { DomainRefusal, UsageError, ValidationError } from '../errors.js';
import { appendTo, writeWhole } from '../io/files.js';
import { helpFooter } from '../io/help.js';
import { listEntry, renderCheckList, renderHistory, renderPrune } from '../render/audit-list.js';
import { AUDIT_FORMATS, FORMAT_BY_EXTENSION, renderAudit, type AuditFormat } from '../render/audit-formats.js';
import { slugSchema } from '../domain/inputs.js';
import { findSecretKey } from '../crypto/index.js';
import { sampleOption, sampleSchema } from './flags.js';
import { parseInput } from './validate.js';
import { runWith, type Runtime } from './runtime.js';

/** `--check a,b --check c` → [a, b, c]: repeated flags and comma lists alike. */
const idList = z
  .array(z.string())
  .transform((values) => values.flatMap((value) => value.split(',')).map((id) => id.trim()).filter(Boolean))
  .superRefine((ids, ctx) => {
    const unknown = ids.filter((id) => !findRule(id));
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `unknown check ${unknown.map((id) => JSON.stringify(id)).join(', ')} (see --list)` });
    }
  });

interface OutputTarget {
  format: AuditFormat;
  file: string;
}

/** `FORMAT:FILE`, or a bare FILE whose extension names the format. */
const outputTarget = z.string().transform((value, ctx): OutputTarget => {
  const explicit = /^([a-z]+):(.+)$/.exec(value);
  if (explicit && (AUDIT_FORMATS as readonly string[]).includes(explicit[1]!)) {
    return { format: explicit[1] as AuditFormat, file: explicit[2]! };
  }
  const format = FORMAT_BY_EXTENSION[path.extname(value).toLowerCase()];
  if (!format) {
    ctx.addIssue({
      code: 'custom',
      message: `cannot tell the format of "${value}": write FORMAT:FILE (${AUDIT_FORMATS.join(', ')}) or use .xml, .json, .md or .html`,
    });
    return z.NEVER;
  }
  return { format, file: value };
});

const inputSchema = z.object({
  check: idList.optional(),
  exclude: idList.optional(),
  list: z.boolean().optional(),
  failOn: z.enum(['error', 'warning', 'never']).default('error'),
  sample: sampleSchema,
  account: slugSchema.optional(),
  format: z.enum(AUDIT_FORMATS).optional(),
  output: z.array(outputTarget).default([]),
  record: z.boolean().optional(),
  incremental: z.boolean().optional(),
  history: z.boolean().optional(),
  pruneHistory: z.boolean().optional(),
  olderThan: z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(0).max(36_500).optional(),
  config: z.string().min(1).optional(),
  showPersonalData: z.boolean().optional(),
  jobs: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'at least 1').max(8, 'at most 8').default(2),
});
type AuditFlags = z.input<typeof inputSchema>;
type AuditInput = z.output<typeof inputSchema>;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The checks the flags and the config select, in the audit's order. */
function selectedChecks(input: AuditInput): readonly Rule[] {
  return RULES.filter((rule) => (!input.check || input.check.includes(rule.id)) && !input.exclude?.includes(rule.id));
}

function listChecks(runtime: Runtime, input: AuditInput, config: AuditConfig): void {
  const entries = selectedChecks(input).map((rule) => listEntry(rule, config.checks[rule.id]?.enabled !== false));
  runtime.out.result({ checks: entries }, () => runtime.out.print(renderCheckList(entries, runtime.out.width)));
}

async function recordedRuns(runtime: Runtime, limit: number): Promise<RecordedRun[] | undefined> {
  const db = await runtime.database({ readOnly: true });
  return (await historyTablesPresent(db.knex)) ? auditHistory(db.knex, limit) : undefined;
}

async function showHistory(runtime: Runtime): Promise<void> {
  const runs = await recordedRuns(runtime, 50);
  if (!runs) throw new DomainRefusal('--history: no audit history tables yet; `igny8 migrate` adds them, `igny8 audit --record` fills them');
  runtime.out.result({ runs }, () => {
    for (const line of renderHistory(runs, runtime.out.width)) runtime.out.print(line);
  });
}

async function prune(runtime: Runtime, input: AuditInput): Promise<void> {
  if (!input.pruneHistory) throw new UsageError('--older-than goes with --prune-history');
  if (input.olderThan === undefined) throw new UsageError('--prune-history needs --older-than DAYS');
  const db = await runtime.database();
  const result = await pruneHistory(db.knex, input.olderThan);
  runtime.out.result(result, () => runtime.out.print(renderPrune(result)));
}

async function audit(runtime: Runtime, input: AuditInput, config: AuditConfig): Promise<number> {
  const terminal: AuditFormat = runtime.out.json ? 'json' : (input.format ?? 'table');
  const db = await runtime.database({ readOnly: true });
  // A key given (or the embedded database's key file) lets the audit verify stored credentials.
  const credentialKey = findSecretKey({ kind: db.kind, dataDir: db.dataDir, env: runtime.env });
  const spinner = await runtime.out.spinner('auditing');
  const report = await runAudit(db.knex, {
    checks: selectedChecks(input),
    sample: input.sample,
    accountSlug: input.account,
    suppressions: config.suppressions,
    tuning: config.checks,
    credentialKey,
    failOn: input.failOn,
    record: input.record,
    incremental: input.incremental,
    // The embedded database has one connection; a server shares one snapshot among `jobs`.
    concurrency: db.concurrent ? input.jobs : 1,
    onCheck: (check, index, total) => spinner.update(`auditing: ${check.id} (${index + 1}/${total})`),
    onNotice: (message) => runtime.out.info(message),
  }).finally(() => spinner.stop());
  const wantsHistory = terminal === 'html' || input.output.some((target) => target.format === 'html');
  const options = {
    color: runtime.out.color,
    width: runtime.out.width,
    showPersonalData: input.showPersonalData === true,
    history: wantsHistory ? ((await recordedRuns(runtime, 100)) ?? []) : [],
  };
  if (report.incremental) runtime.out.info(incrementalLine(report.incremental));
  if (report.movedMark) runtime.out.info('recorded: `audit --incremental` now counts changes from this run');
  if (runtime.verbose) {
    for (const check of report.checks) runtime.out.info(`check ${check.id}: ${check.durationMs} ms`);
  }
  if (terminal === 'json') runtime.out.data(JSON.parse(renderAudit('json', report, options)));
  else runtime.out.print(renderAudit(terminal, report, options));
  for (const target of input.output) {
    writeWhole(target.file, renderAudit(target.format, report, { ...options, color: runtime.out.plainColor }));
    runtime.out.info(`wrote the ${target.format} report to ${target.file}`);
  }
  // GitHub Actions shows this file on the run's page: the summary lands there without a flag.
  const summary = runtime.env.GITHUB_STEP_SUMMARY;
  if (summary) appendTo(summary, renderAudit('markdown', report, options), 'GITHUB_STEP_SUMMARY');
  if (report.failure) runtime.out.error(report.failure);
  return report.exitCode;
}

function incrementalLine(scope: IncrementalScope): string {
  const accounts =
    scope.accounts === 'all'
      ? 'every account (a shared table such as plans changed)'
      : `${plural(scope.accounts, 'account')} changed`;
  const inFull = scope.inFull.length > 0 ? `; run in full: ${scope.inFull.join(', ')}` : '';
  return `incremental: ${accounts} since the recorded run ${scope.sinceRunId} (${scope.sinceStartedAt})${inFull}`;
}

export default function configureAudit(command: Command): void {
  command
    .option('--check <id...>', 'run only these checks (repeat, or a comma list; see --list)', collect)
    .option('--exclude <id...>', 'skip these checks (repeat, or a comma list)', collect)
    .option('--list', 'list the checks and exit')
    .option('--fail-on <level>', 'exit 1 on findings at or above: error | warning | never (default: error)')
    .addOption(sampleOption())
    .option('--account <slug>', 'audit one account only')
    .option('--format <format>', `${AUDIT_FORMATS.join(' | ')} (default: table; --json means json)`)
    .option('--output <[format:]file>', 'also write the report to a file (repeatable; .xml .json .md .html name their format)', collect)
    .option('--show-personal-data', 'emails and names unmasked in markdown, html and github output')
    .option('--jobs <n>', 'connections the checks are spread over, sharing one snapshot (server only)', '2')
    .option('--record', 'append this run and its findings to the audit history (a run of every check sets the --incremental mark)')
    .option('--incremental', 'only the accounts changed since the last recorded run; checks spanning accounts run in full')
    .option('--history', 'show the recorded runs (audit --record), oldest first, and exit')
    .option('--prune-history', 'delete recorded audit runs, repair runs and their log older than --older-than, and exit')
    .option('--older-than <days>', 'with --prune-history: the age in days of what is deleted')
    .option('--config <path>', 'tuning and suppressions (default: ./igny8.config.json when present)')
    .addHelpText(
      'after',
      helpFooter(`
Checks (details: --list):
  ${RULE_IDS.join(', ')}

When GITHUB_STEP_SUMMARY is set (GitHub Actions), the markdown summary is appended to it.

Exit codes: 0 clean below --fail-on, 1 findings at or above it (or a check failed, or none ran), 2 bad flags or config, 3 --record before \`igny8 migrate\`, or --incremental without the change journal or a recorded run, 4 database unreachable.`),
    )
    .action(
      runWith<AuditFlags>(async (flags, runtime) => {
        const input = parseInput(inputSchema, flags);
        if (runtime.out.json && input.format !== undefined && input.format !== 'json') {
          throw new ValidationError('--format', `--json asks for json, --format asks for ${input.format}: choose one`);
        }
        const config = loadAuditConfig(input.config);
        if (input.list) return listChecks(runtime, input, config);
        if (input.history) return showHistory(runtime);
        if (input.pruneHistory || input.olderThan !== undefined) return prune(runtime, input);
        return audit(runtime, input, config);
      }),
    );
}
