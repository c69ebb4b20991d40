// igny8 rotate-key: every stored credential, from IGNY8_SECRET_KEY to IGNY8_NEW_SECRET_KEY.
import type { Command } from 'commander';
import { z } from 'zod';
import { loadSecretKey, parseSecretKey, replaceSecretKeyFile } from '../crypto/index.js';
import { rotateKey } from '../domain/rotate-key.js';
import { UsageError } from '../errors.js';
import { helpFooter } from '../io/help.js';
import { renderRotation } from '../render/rotation.js';
import { parseInput } from './validate.js';
import { runWith } from './runtime.js';
import { reasonSchema } from '../domain/inputs.js';
import { currentOperator } from '../operator.js';

const NEW_KEY_ENV = 'IGNY8_NEW_SECRET_KEY';

const inputSchema = z.object({ batchSize: z.coerce.number().int().min(1).max(100_000), reason: reasonSchema.optional() });

export default function configureRotateKey(command: Command): void {
  command
    .option('--batch-size <n>', 'rows per transaction', '1000')
    .option('--reason <text>', 'why, recorded with the run (with who ran it and igny8 version)')
    .addHelpText(
      'after',
      helpFooter(`
The current key comes from IGNY8_SECRET_KEY (or IGNY8_SECRET_KEY_FILE, or the embedded database's key file), the new one from ${NEW_KEY_ENV}. Each batch is one transaction; a run that is stopped is finished by running it again, and until then other commands that encrypt or decrypt refuse. On the embedded database the key file then holds the new key.`),
    )
    .action(
      runWith<z.input<typeof inputSchema>>(async (flags, runtime) => {
        const input = parseInput(inputSchema, flags);
        const text = runtime.env[NEW_KEY_ENV];
        if (text === undefined || text.trim() === '') throw new UsageError(`${NEW_KEY_ENV} is not set: it names the key to move to`);
        const to = parseSecretKey(text, NEW_KEY_ENV);
        const db = await runtime.database();
        const from = loadSecretKey({ kind: db.kind, dataDir: db.dataDir, env: runtime.env, persist: false });
        if (from.source === 'throwaway') throw new UsageError('IGNY8_SECRET_KEY is not set and this database has no key file: nothing is encrypted under a key yet');
        const result = await rotateKey(db, {
          from: from.key,
          to,
          batchSize: input.batchSize,
          operator: currentOperator(input.reason),
          onBatch: (table, rows) => runtime.out.info(`${table}: ${rows} rows re-encrypted`),
        });
        // The embedded database's key file follows the rotation it belongs to.
        if (from.source === 'file' && from.file) replaceSecretKeyFile(from.file, to);
        runtime.out.result(result, () => {
          for (const line of renderRotation(result, from.source === 'file' ? from.file : undefined)) runtime.out.print(line);
        });
      }),
    );
}
