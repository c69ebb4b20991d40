// Flags several commands share, each defined once: the option as --help shows it, and the
// zod schema that parses its text.
import { Option } from 'commander';
import { z } from 'zod';

export const DEFAULT_SAMPLE = 3;

/** `--sample N`: how many example rows to show per check. */
export function sampleOption(what = 'example rows per check'): Option {
  return new Option('--sample <n>', what).default(String(DEFAULT_SAMPLE));
}

export const sampleSchema = z
  .string()
  .regex(/^\d{1,4}$/, 'a whole number of example rows, 0 to 1000')
  .transform(Number)
  .refine((value) => value <= 1000, 'at most 1000 example rows');
