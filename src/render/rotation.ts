// What `igny8 rotate-key` says it did: fingerprints, never keys.
import type { RotateKeyResult } from '../domain/rotate-key.js';
import { plural } from './text.js';

export function renderRotation(result: RotateKeyResult, keyFile: string | undefined): string[] {
  if (result.alreadyRotated) {
    return [`nothing to do: the credentials are already under ${result.to}`, ...(keyFile ? [`key file ${keyFile} holds the new key`] : [])];
  }
  const tables = Object.entries(result.rows).map(([table, rows]) => `${table} ${rows}`);
  return [
    `${result.resumed ? 'finished the rotation' : 'rotated'}: ${result.from} → ${result.to}`,
    `${plural(result.envelopes, 'credential')} re-encrypted in ${plural(result.batches, 'batch', 'batches')}${tables.length > 0 ? ` (${tables.join(', ')})` : ''}`,
    `run id ${result.runId}: each changed row is in igny8_repair_log (its key fingerprints, never a value)`,
    ...(keyFile ? [`key file ${keyFile} now holds the new key`] : ['keep the new key as IGNY8_SECRET_KEY from now on; the old one decrypts nothing here any more']),
  ];
}
