// Flags and arguments become typed input through a zod schema; the first problem is
// reported as a ValidationError naming the field (as the user spelled it, --like-this).
import type { z } from 'zod';
import { ValidationError } from '../errors.js';

function flagName(path: PropertyKey[]): string {
  const [first] = path;
  if (typeof first !== 'string') return 'input';
  return `--${first.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  throw new ValidationError(flagName(issue.path), issue.message, {
    cause: result.error,
    details: result.error.issues.slice(1).map((other) => `${flagName(other.path)}: ${other.message}`),
  });
}
