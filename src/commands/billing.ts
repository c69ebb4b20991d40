// igny8 billing run: renewals, monthly credits, overdue invoices and suspensions for every
// account at one instant, idempotent; --dry-run reports what it would do.
import type { Command } from 'commander';
import { z } from 'zod';
import { loadAuditConfig } from '../audit/config.js';
import { runBilling } from '../domain/billing-run.js';
import { instantSchema, text } from '../domain/inputs.js';
import { renderBillingRun } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

const billingRunSchema = z.object({
  asOf: instantSchema.optional(),
  graceDays: z
    .string()
    .regex(/^[0-9]{1,3}$/, 'must be a whole number of days from 0 to 365')
    .transform(Number)
    .refine((days) => days <= 365, 'must be a whole number of days from 0 to 365')
    .optional(),
  dryRun: z.boolean().optional(),
  reason: text(500).optional(),
  config: z.string().min(1).optional(),
});

export default function configureBilling(command: Command): void {
  command
    .command('run')
    .description('bill every account at one instant: period ends, renewals and their invoices, monthly credits, overdue invoices, suspensions')
    .option('--as-of <time>', 'the instant to bill at: 2026-01-31 or 2026-01-31T12:00:00Z (default: now)')
    .option('--grace-days <n>', 'days an invoice may stay overdue before its account is suspended (default: billing.graceDays of the config, else 14)')
    .option('--dry-run', 'report what the run would change, and change nothing')
    .option('--reason <text>', 'why, recorded with the run')
    .option('--config <file>', 'the config file (default: ./igny8.config.json when present)')
    .action(
      runWith<z.input<typeof billingRunSchema>>(async (options, runtime) => {
        const input = parseInput(billingRunSchema, options);
        const graceDays = input.graceDays ?? loadAuditConfig(input.config).graceDays;
        const db = await runtime.database();
        const result = await withFlagNames(() =>
          runBilling(db.knex, { asOf: input.asOf, graceDays, dryRun: input.dryRun, reason: input.reason }),
        );
        runtime.out.result(result, () => {
          for (const line of renderBillingRun(result)) runtime.out.print(line);
        });
      }),
    );
}
