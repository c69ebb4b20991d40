// igny8 change-plan: an upgrade now with a prorated invoice, a downgrade at period end;
// refused while the account is over the new plan's limits.
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { changePlanInputSchema, PLAN_CHANGE_TIMES } from '../domain/inputs.js';
import { changePlan } from '../domain/plan-change.js';
import { renderPlanChange } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

export default function configureChangePlan(command: Command): void {
  command
    .requiredOption('--account <slug>', "the account's slug")
    .requiredOption('--plan <slug>', 'the new plan; see `igny8 catalog show`')
    .addOption(
      new Option('--at <when>', 'when it takes effect (default: an upgrade now, a downgrade at period end)').choices(PLAN_CHANGE_TIMES),
    )
    .option('--dry-run', 'show what would change (the invoice, the dates), and change nothing')
    .action(
      runWith<z.input<typeof changePlanInputSchema>>(async (options, runtime) => {
        const input = parseInput(changePlanInputSchema, options);
        const db = await runtime.database();
        const result = await withFlagNames(() => changePlan(db.knex, input));
        runtime.out.result(result, () => {
          for (const line of renderPlanChange(result)) runtime.out.print(line);
        });
      }),
    );
}
