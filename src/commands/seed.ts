// igny8 seed legacy: a legacy-shaped database with every defect kind planted at known counts.
import type { Command } from 'commander';
import { z } from 'zod';
import { PLANTABLE, seedLegacy } from '../seed/legacy.js';
import { parseInput } from './validate.js';
import { runWith } from './runtime.js';
import { helpFooter } from '../io/help.js';

const inputSchema = z.object({
  accounts: z
    .string()
    .regex(/^\d+$/, 'a whole number of accounts')
    .transform(Number)
    .refine((value) => value >= 20 && value <= 10_000_000, 'between 20 and 10,000,000 accounts'),
  defectRate: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'a share between 0 and 1, e.g. 0.05')
    .transform(Number),
  seed: z
    .string()
    .regex(/^-?\d{1,9}$/, 'an integer')
    .transform(Number),
  defects: z
    .string()
    .min(1)
    .transform((value) => value.split(',').map((id) => id.trim()).filter(Boolean))
    .optional(),
});

interface SeedFlags {
  accounts?: string;
  defectRate?: string;
  seed?: string;
  defects?: string;
}

export default function configureSeed(seed: Command): void {
  seed
    .command('legacy')
    .description('create the legacy shape on an EMPTY database, fill it set-based and plant every defect kind')
    .requiredOption('--accounts <n>', 'how many accounts, 20 to 10,000,000')
    .option('--defect-rate <r>', 'share of accounts carrying one defect, 0 to 1', '0.05')
    .option('--seed <s>', 'an integer: the same seed plants the same defects', '1')
    .option('--defects <ids>', `comma-separated check ids to plant, or "repairable" (default: all of ${PLANTABLE.length})`)
    .addHelpText(
      'after',
      helpFooter('\nPrints one JSON document: `planted` holds, per check id, the count `igny8 audit --format json` reports.'),
    )
    .action(
      runWith<SeedFlags>(async (flags, runtime) => {
        const input = parseInput(inputSchema, flags);
        const db = await runtime.database();
        const spinner = await runtime.out.spinner('seeding');
        const started = performance.now();
        const result = await seedLegacy(db, {
          ...input,
          onProgress: (step, index, total) =>
            spinner.update(`seeding ${input.accounts.toLocaleString('en-US')} accounts: ${step} (${index + 1}/${total}, ${((performance.now() - started) / 1000).toFixed(1)} s)`),
        }).finally(() => spinner.stop());
        // The planted counts are the result, for people and machines alike: always JSON.
        runtime.out.data(result);
      }),
    );
}
