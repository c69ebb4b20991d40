// igny8 create-sector: a sector of a site, from the site's industry, within the plan's limit.
import type { Command } from 'commander';
import type { z } from 'zod';
import { createSectorInputSchema } from '../domain/inputs.js';
import { createSector } from '../domain/sectors.js';
import { renderCreatedSector } from '../render/domain.js';
import { withFlagNames } from './domain-flags.js';
import { runWith } from './runtime.js';
import { parseInput } from './validate.js';

export default function configureCreateSector(command: Command): void {
  command
    .requiredOption('--site <id|slug>', "the site's id, or its slug")
    .option('--account <slug>', 'the account, when several accounts have a site with that slug')
    .requiredOption('--industry-sector <slug>', "an industry sector of the site's industry")
    .option('--name <name>', "the sector's name (default: the industry sector's name)")
    .action(
      runWith<z.input<typeof createSectorInputSchema>>(async (options, runtime) => {
        const input = parseInput(createSectorInputSchema, options);
        const db = await runtime.database();
        const sector = await withFlagNames(() => createSector(db.knex, input));
        runtime.out.result(sector, () => {
          for (const line of renderCreatedSector(sector)) runtime.out.print(line);
        });
      }),
    );
}
