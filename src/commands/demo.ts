// igny8 demo: the whole journey, explained, on a throwaway embedded database of its own.
import type { Command } from 'commander';
import { z } from 'zod';
import { runDemo } from '../demo/run.js';
import { UsageError } from '../errors.js';
import { parseInput } from './validate.js';
import { runWith } from './runtime.js';

const inputSchema = z.object({
  accounts: z.coerce.number().int().min(10).max(100_000),
  defectRate: z.coerce.number().min(0.01).max(1),
  seed: z.coerce.number().int().min(0).max(2 ** 31 - 1),
  keep: z.boolean(),
});

export default function configureDemo(command: Command): void {
  command
    .option('--accounts <n>', 'legacy accounts to create', '300')
    .option('--defect-rate <r>', 'share of accounts carrying a defect', '0.3')
    .option('--seed <s>', 'random seed', '42')
    .option('--keep', 'keep the demo database afterwards and print where it is')
    .action(
      runWith<{ accounts: string; defectRate: string; seed: string; keep?: boolean }>(async (flags, runtime) => {
        if (runtime.global.databaseUrl) {
          throw new UsageError('the demo always uses a throwaway embedded database of its own: drop --database-url');
        }
        const input = parseInput(inputSchema, { ...flags, keep: Boolean(flags.keep) });
        const { out } = runtime;
        out.info('igny8 demo: a throwaway embedded database; your own database is not touched');
        const spinner = await out.spinner('seeding a legacy database');
        const report = await runDemo({
          ...input,
          env: runtime.env,
          onStep(step) {
            spinner.stop();
            if (out.json) return;
            out.printWrapped(out.color.bold(`${step.number}. ${step.title}`));
            out.printWrapped(`   ${out.color.dim(step.why)}`);
            for (const line of step.lines) out.printWrapped(`   ${line}`);
            out.print();
          },
        }).finally(() => spinner.stop());
        out.result(report, () => {
          out.printWrapped(
            `done in ${(report.durationMs / 1000).toFixed(1)} s. ${report.kept ? `The demo database is kept in ${report.directory}` : 'The demo database was removed.'}`,
          );
          out.printWrapped('On your own database: `igny8 migrate adopt` (an existing legacy database), `igny8 audit`, `igny8 repair --all`, `igny8 migrate`.');
        });
        return report.finalAuditExitCode;
      }),
    );
}
