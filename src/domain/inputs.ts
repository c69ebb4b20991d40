// The input rules of the domain operations, as zod schemas: the commands parse flags with
// them, and the domain functions' types come from them. Every message names what is wrong
// without repeating the value (a password must never be echoed).
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { GRANT_TYPES, MAX_CREDITS } from './credits.js';
import { textProblem } from './text.js';

const CONTROL = /\p{Cc}/u;

/** The one check every free-text input passes: see textProblem. */
function storableText(value: string, ctx: z.RefinementCtx<string>): void {
  const problem = textProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

function boundedText(max: number, normalize: boolean) {
  const trimmed = z.string().trim();
  return (normalize ? trimmed.normalize('NFC') : trimmed)
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine(storableText);
}

/**
 * Text of 1..max characters, trimmed, in Unicode NFC (one name is stored one way, however
 * the keyboard composed it), without control, direction-changing or invisible characters,
 * with at least one visible character.
 */
export function text(max: number) {
  return boundedText(max, true);
}

/**
 * An identifier the caller chose (an idempotency key): checked as text but not normalised,
 * since keys are compared exactly and a retry must find the key it sent before.
 */
export function keyText(max: number) {
  return boundedText(max, false);
}

export const nameSchema = text(255);
export const reasonSchema = text(255);

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'));

/** A catalog or account slug as typed on the command line. */
export const slugSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a slug: lowercase letters, digits and single dashes');

const COMMON_PASSWORDS = new Set([
  'password',
  'password1',
  'password123',
  'passw0rd',
  '12345678',
  '123456789',
  '1234567890',
  'qwerty123',
  'qwertyuiop',
  'iloveyou',
  'letmein1',
  'welcome1',
  'admin123',
  'abc12345',
  'changeme',
  'changeme1',
]);

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * At least 8 characters, at least three kinds of character (lowercase, uppercase, digit,
 * symbol) unless it is a passphrase of 16 or more, not a well-known password.
 */
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`)
  .refine((value) => !CONTROL.test(value), 'must not contain control characters')
  .refine((value) => !COMMON_PASSWORDS.has(value.toLowerCase()), 'is a well-known password')
  .refine((value) => value.length >= 16 || characterKinds(value) >= 3, {
    message: 'is too weak: use at least three of lowercase, uppercase, digits and symbols, or 16+ characters',
  })
  .refine((value) => new Set(value).size >= 4, 'is too weak: too few different characters');

function characterKinds(value: string): number {
  return [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{L}\p{Nd}]/u].filter((kind) => kind.test(value)).length;
}

export const PAYMENT_METHODS = ['stripe', 'paypal', 'bank_transfer', 'local_wallet', 'manual'] as const;
export type PaymentMethodType = (typeof PAYMENT_METHODS)[number];
export const paymentMethodSchema = z.enum(PAYMENT_METHODS, {
  error: `must be one of ${PAYMENT_METHODS.join(', ')}`,
});

/** A whole number of credits, 1..2^31-1, from a flag's text or a number. */
export const amountSchema = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const textValue = String(value).trim();
    if (!/^[0-9]+$/.test(textValue)) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${MAX_CREDITS}` });
      return z.NEVER;
    }
    const amount = Number(textValue);
    if (amount < 1 || amount > MAX_CREDITS) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${MAX_CREDITS}` });
      return z.NEVER;
    }
    return amount;
  });

export const idempotencyKeySchema = keyText(255);

/** A site's domain: a host name, or an http(s) URL of one; at most 200 characters. */
export const domainSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  // The URL parser drops a zero-width space from the host; the value kept would hold it.
  .superRefine(storableText)
  .refine((value) => isDomain(value), 'must be a host name such as example.com, or an http(s) URL of one');

function isDomain(value: string): boolean {
  const host = /^https?:\/\//i.test(value) ? safeHost(value) : value;
  return (
    host !== undefined &&
    /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i.test(host)
  );
}

function safeHost(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.username || url.password) return undefined;
    return url.hostname;
  } catch {
    return undefined;
  }
}

/** Two-letter ISO country code. */
export const countrySchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code')
  .transform((value) => value.toUpperCase());

/** `igny8 register`: keys are the command's flags (camelCase). */
export const registerInputSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  accountName: nameSchema,
  plan: slugSchema,
  paymentMethod: paymentMethodSchema.optional(),
  billingEmail: emailSchema.optional(),
  firstName: text(150).optional(),
  lastName: text(150).optional(),
  billingAddress: text(255).optional(),
  billingCity: text(100).optional(),
  billingCountry: countrySchema.optional(),
});
/** A registration, parsed: what registerAccount() takes. */
export type RegisterInput = z.output<typeof registerInputSchema>;

export const createSiteInputSchema = z.object({
  /** The account's slug. */
  account: slugSchema,
  name: nameSchema,
  domain: domainSchema,
  /** The industry's slug. */
  industry: slugSchema,
  /** The creating user's email (a member of the account); the owner when absent. */
  by: emailSchema.optional(),
  description: text(2000).optional(),
});
export type CreateSiteInput = z.output<typeof createSiteInputSchema>;

export const createSectorInputSchema = z.object({
  /** The site's id, or its slug (unique within an account). */
  site: slugSchema,
  /** The account's slug: needed when a site slug is used by more than one account. */
  account: slugSchema.optional(),
  /** The industry sector's slug, within the site's industry. */
  industrySector: slugSchema,
  /** Defaults to the industry sector's name. */
  name: nameSchema.optional(),
});
export type CreateSectorInput = z.output<typeof createSectorInputSchema>;

export const creditInputSchema = z.object({
  /** The account's slug. */
  account: slugSchema,
  amount: amountSchema,
  reason: reasonSchema,
  idempotencyKey: idempotencyKeySchema.optional(),
  type: z.enum(GRANT_TYPES, { error: `must be one of ${GRANT_TYPES.join(', ')}` }).optional(),
});
export type AccountCreditInput = z.output<typeof creditInputSchema>;

/** The roles `user add` gives: the owner is made by `register` and `account transfer-ownership` only. */
export const MEMBER_ROLES = ['admin', 'editor', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** A row id typed on the command line. */
export const idSchema = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const textValue = String(value).trim();
    if (!/^[0-9]{1,15}$/.test(textValue) || Number(textValue) < 1) {
      ctx.addIssue({ code: 'custom', message: 'must be a positive whole number' });
      return z.NEVER;
    }
    return Number(textValue);
  });

export const addUserInputSchema = z.object({
  /** The account's slug. */
  account: slugSchema,
  email: emailSchema,
  role: z.enum(MEMBER_ROLES, { error: `must be one of ${MEMBER_ROLES.join(', ')}` }),
  /** Absent: the user gets an unusable password and sets one through the application. */
  password: passwordSchema.optional(),
  firstName: text(150).optional(),
  lastName: text(150).optional(),
});
export type AddUserInput = z.output<typeof addUserInputSchema>;

export const changeEmailInputSchema = z.object({
  from: emailSchema,
  to: emailSchema,
  /** Chooses one user when several emails equal `from` ignoring case. */
  userId: idSchema.optional(),
});
export type ChangeEmailInput = z.output<typeof changeEmailInputSchema>;

export const deactivateUserInputSchema = z.object({
  email: emailSchema,
  userId: idSchema.optional(),
});
export type DeactivateUserInput = z.output<typeof deactivateUserInputSchema>;

export const transferOwnershipInputSchema = z.object({
  /** The account's slug. */
  account: slugSchema,
  /** The member who becomes the owner. */
  to: emailSchema,
});
export type TransferOwnershipInput = z.output<typeof transferOwnershipInputSchema>;

export const siteAccessInputSchema = z.object({
  /** The site's id, or its slug (unique within an account). */
  site: slugSchema,
  /** The account's slug: needed when a site slug is used by more than one account. */
  account: slugSchema.optional(),
  /** The member whose access changes. */
  email: emailSchema,
  /** Who granted it (a member of the account); recorded as granted_by. */
  by: emailSchema.optional(),
});
export type SiteAccessInput = z.output<typeof siteAccessInputSchema>;

export const siteAccessListInputSchema = z
  .object({
    site: slugSchema.optional(),
    account: slugSchema.optional(),
  })
  .refine((value) => value.site !== undefined || value.account !== undefined, {
    message: 'give --site or --account',
    path: ['site'],
  });
export type SiteAccessListInput = z.output<typeof siteAccessListInputSchema>;

/** An account by slug, or by a member's email. */
export const accountKeySchema = z.union([slugSchema, emailSchema], {
  error: 'must be an account slug or a user email',
});

/**
 * Parses a domain call's input at the programmatic API's edge: the same rules as the command
 * line. The first problem becomes a ValidationError naming the input's key.
 */
export function validateInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const field = typeof issue.path[0] === 'string' ? issue.path[0] : 'input';
  throw new ValidationError(field, issue.message, { cause: result.error });
}

/** An invoice number as printed (`INV-00000042`, or a legacy number): printable, 1..50 characters. */
export const invoiceNumberSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(50, 'must be at most 50 characters')
  .regex(/^[\p{L}\p{N}._\/#-]+$/u, 'must be an invoice number such as INV-00000042');

/** A moment: an ISO 8601 date-time with its offset (2026-01-31T12:00:00Z), or a date (midnight UTC). */
export const instantSchema = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
    const valid = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(iso);
    const time = valid ? Date.parse(iso.replace(' ', 'T')) : Number.NaN;
    if (Number.isNaN(time)) {
      ctx.addIssue({ code: 'custom', message: 'must be a date (2026-01-31) or a date-time with its offset (2026-01-31T12:00:00Z)' });
      return z.NEVER;
    }
    return new Date(time);
  });

export const payInvoiceInputSchema = z.object({
  number: invoiceNumberSchema,
  /** The payment's reference (a bank transfer's, a processor's charge id). */
  reference: text(255).optional(),
  /** When the money arrived; now by default. Never in the future. */
  paidAt: instantSchema
    .refine((value) => value.getTime() <= Date.now() + 60_000, 'must not be in the future')
    .optional(),
});
export type PayInvoiceInput = z.output<typeof payInvoiceInputSchema>;

export const voidInvoiceInputSchema = z.object({ number: invoiceNumberSchema });
export type VoidInvoiceInput = z.output<typeof voidInvoiceInputSchema>;

/** `igny8 debit-credits`: a grant's input without a type (a debit is a deduction). */
export const debitInputSchema = z.object({
  account: slugSchema,
  amount: amountSchema,
  reason: reasonSchema,
  idempotencyKey: idempotencyKeySchema.optional(),
});
export type DebitInput = z.output<typeof debitInputSchema>;

export const PLAN_CHANGE_TIMES = ['now', 'period-end'] as const;

/** `igny8 change-plan`. */
export const changePlanInputSchema = z.object({
  account: slugSchema,
  plan: slugSchema,
  /** Default: an upgrade now, a downgrade at period end. */
  at: z.enum(PLAN_CHANGE_TIMES, { error: `must be one of ${PLAN_CHANGE_TIMES.join(', ')}` }).optional(),
  dryRun: z.boolean().optional(),
});
export type ChangePlanInput = z.output<typeof changePlanInputSchema>;
