// igny8 seed legacy: a legacy-shaped database with every defect kind planted at known counts.
import type { Command } from 'commander';
import { z } from 'zod';
import { PLANTABLE, seedLegacy } from '../seed/legacy.js';
import { LAYOUTS, NAMED_SHAPES, parseShape } from '../seed/shape.js';
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
  layout: z.enum(LAYOUTS, { message: `one of ${LAYOUTS.join(', ')}` }),
  shape: z.string().optional(),
});

interface SeedFlags {
  accounts?: string;
  defectRate?: string;
  seed?: string;
  defects?: string;
  layout?: string;
  shape?: string;
}

export default function configureSeed(seed: Command): void {
  seed
    .command('legacy')
    .description('create the legacy shape on an EMPTY database, fill it set-based and plant every defect kind')
    .requiredOption('--accounts <n>', 'how many accounts, 20 to 10,000,000')
    .option('--defect-rate <r>', 'share of accounts carrying one defect, 0 to 1', '0.05')
    .option('--seed <s>', 'an integer: the same seed plants the same defects', '1')
    .option('--defects <ids>', `comma-separated check ids to plant, or "repairable" (default: all of ${PLANTABLE.length})`)
    .option('--layout <layout>', 'ordered: each table in account order; arrival: rows interleaved across accounts in time order, as a live database holds them', 'ordered')
    .option(
      '--shape <shape>',
      `rows per account: ${Object.keys(NAMED_SHAPES).join(', ')}, or users=N,sites=N,sectors=N,ledger=N (means; after a name they override it)`,
      'lean',
    )
    .addHelpText(
      'after',
      helpFooter('\nPrints one JSON document: `planted` holds, per check id, the count `igny8 audit --format json` reports.'),
    )
    .action(
      runWith<SeedFlags>(async (flags, runtime) => {
        const input = parseInput(inputSchema, flags);
        const shape = parseShape(input.shape);
        const db = await runtime.database();
        const spinner = await runtime.out.spinner('seeding');
        const started = performance.now();
        const result = await seedLegacy(db, {
          ...input,
          shape: shape.shape,
          shapeName: shape.name,
          onProgress: (step, index, total) =>
            spinner.update(`seeding ${input.accounts.toLocaleString('en-US')} accounts: ${step} (${index + 1}/${total}, ${((performance.now() - started) / 1000).toFixed(1)} s)`),
        }).finally(() => spinner.stop());
        // The planted counts are the result, for people and machines alike: always JSON.
        runtime.out.data(result);
      }),
    );
}
