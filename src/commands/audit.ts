// igny8 audit: runs the integrity checks and gates CI through the exit code.
import type { Command } from 'commander';
import { z } from 'zod';
import { loadAuditConfig } from '../audit/config.js';
import { auditHistory, historyTablesPresent } from '../audit/history.js';
import { runAudit } from '../audit/run.js';
import { RULE_IDS, RULES, findRule } from '../rules/registry.js';
import { DomainRefusal, ValidationError } from '../errors.js';
import { auditDocument } from '../render/audit-json.js';
import { renderAuditTable } from '../render/audit-table.js';
import { renderGithub } from '../render/github.js';
import { renderJunit } from '../render/junit.js';
import { renderTable } from '../render/table.js';
import { sampleOption, sampleSchema } from './flags.js';
import { parseInput } from './validate.js';
import { slugSchema } from '../domain/inputs.js';
import { runWith } from './runtime.js';
import { helpFooter } from '../io/help.js';

const FORMATS = ['table', 'json', 'junit', 'github'] as const;

const inputSchema = z.object({
  check: z.array(z.string()).optional(),
  list: z.boolean().optional(),
  failOn: z.enum(['error', 'warning', 'never']).default('error'),
  sample: sampleSchema,
  account: slugSchema.optional(),
  format: z.enum(FORMATS).optional(),
  record: z.boolean().optional(),
  history: z.boolean().optional(),
  config: z.string().min(1).optional(),
});

type AuditFlags = z.input<typeof inputSchema>;

export default function configureAudit(command: Command): void {
  command
    .option('--check <id...>', 'run only these checks (see --list)')
    .option('--list', 'list the checks and exit')
    .option('--fail-on <level>', 'exit 1 on findings at or above: error | warning | never (default: error)')
    .addOption(sampleOption())
    .option('--account <slug>', 'audit one account only')
    .option('--format <format>', 'table | json | junit | github (default: table; --json means json)')
    .option('--record', 'append this run and its findings to the audit history')
    .option('--history', 'show the recorded runs (audit --record), oldest first, and exit')
    .option('--config <path>', 'suppressions file (default: ./igny8.config.json when present)')
    .addHelpText(
      'after',
      helpFooter(`
Checks (details: --list):
  ${RULE_IDS.join(', ')}

Exit codes: 0 clean below --fail-on, 1 findings at or above it (or a check failed, or none ran), 2 bad flags or config, 3 --record before \`igny8 migrate\`, 4 database unreachable.`),
    )
    .action(
      runWith<AuditFlags>(async (flags, runtime) => {
        const input = parseInput(inputSchema, flags);
        if (runtime.out.json && input.format !== undefined && input.format !== 'json') {
          throw new ValidationError('--format', `--json asks for json, --format asks for ${input.format}: choose one`);
        }
        const format = runtime.out.json ? 'json' : (input.format ?? 'table');
        const unknown = (input.check ?? []).filter((id) => !findRule(id));
        if (unknown.length > 0) {
          throw new ValidationError('--check', `unknown check ${unknown.map((id) => JSON.stringify(id)).join(', ')}`, {
            details: [`known checks: ${RULE_IDS.join(', ')}`],
          });
        }
        const checks = input.check ? RULES.filter((check) => input.check!.includes(check.id)) : RULES;

        if (input.list) {
          const list = checks.map(({ id, severity, title, remedy, repair }) => ({ id, severity, title, repairable: repair !== undefined, remedy }));
          if (format === 'json') runtime.out.data({ checks: list });
          else {
            runtime.out.print(
              renderTable(
                ['check', 'severity', 'repair', 'title'],
                list.map((check) => [check.id, check.severity, check.repairable ? 'yes' : 'no', check.title]),
                { width: runtime.out.width },
              ),
            );
          }
          return;
        }

        if (input.history) {
          const db = await runtime.database({ readOnly: true });
          if (!(await historyTablesPresent(db.knex))) {
            throw new DomainRefusal('--history: no audit history tables yet; `igny8 migrate` adds them, `igny8 audit --record` fills them');
          }
          const runs = await auditHistory(db.knex, 50);
          if (format === 'json') runtime.out.data({ runs });
          else {
            runtime.out.print(
              renderTable(
                ['run', 'started', 'exit', 'findings'],
                runs.map((run) => [
                  run.runId,
                  run.startedAt,
                  run.exitCode,
                  Object.entries(run.counts)
                    .filter(([, count]) => count > 0)
                    .map(([id, count]) => `${id}=${count}`)
                    .join(', ') || 'none',
                ]),
                { width: runtime.out.width },
              ),
            );
            if (runs.length === 0) runtime.out.print('no recorded runs: `igny8 audit --record` adds one');
          }
          return;
        }

        const config = loadAuditConfig(input.config);
        const db = await runtime.database({ readOnly: true });
        const spinner = await runtime.out.spinner('auditing');
        const report = await runAudit(db.knex, {
          checks,
          sample: input.sample,
          accountSlug: input.account,
          suppressions: config.suppressions,
          failOn: input.failOn,
          record: input.record,
          concurrency: db.concurrent ? 2 : 1,
          onCheck: (check, index, total) => spinner.update(`auditing: ${check.id} (${index + 1}/${total})`),
          onNotice: (message) => runtime.out.info(message),
        }).finally(() => spinner.stop());

        if (format === 'json') runtime.out.data(auditDocument(report));
        else if (format === 'junit') runtime.out.print(renderJunit(report));
        else if (format === 'github') for (const line of renderGithub(report)) runtime.out.print(line);
        else for (const line of renderAuditTable(report, runtime.out.color, runtime.out.width)) runtime.out.print(line);
        if (report.failure) runtime.out.error(report.failure);
        return report.exitCode;
      }),
    );
}
