// Report files: written whole or not at all, so a reader (a CI upload, a browser) never sees
// half a file, and a failed write names the file.
import { renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { ValidationError } from '../errors.js';

export function writeWhole(file: string, text: string, field = '--output'): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(partial, text.endsWith('\n') ? text : `${text}\n`);
    renameSync(partial, file);
  } catch (error) {
    throw new ValidationError(field, `cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Appends to a file others append to as well (GitHub's step summary). */
export function appendTo(file: string, text: string, field: string): void {
  try {
    appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  } catch (error) {
    throw new ValidationError(field, `cannot append to ${file}: ${(error as Error).message}`, { cause: error });
  }
}
