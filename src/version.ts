// igny8's own version, from the package it runs from: --version prints it, and the migration
// table and the histories record it next to what igny8 did.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function igny8Version(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
