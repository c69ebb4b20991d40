// Free text as igny8 stores it: direction-changing and invisible characters are refused,
// the joiners that scripts and emoji need are kept where they join, names are stored in NFC.
import { describe, expect, it } from 'vitest';
import {
  createSectorInputSchema,
  createSiteInputSchema,
  creditInputSchema,
  idempotencyKeySchema,
  nameSchema,
  reasonSchema,
  registerInputSchema,
  validateInput,
} from '../../src/domain/inputs.js';
import { textProblem } from '../../src/domain/text.js';
import { ValidationError } from '../../src/errors.js';

const ZWNJ = '\u200C';
const ZWJ = '\u200D';

describe('textProblem', () => {
  it.each([
    ['Persian with a ZWNJ', `می${ZWNJ}خواهم`],
    ['Hindi with a ZWJ after the virama', `क्${ZWJ}ष`],
    ['Bengali with a ZWJ before the virama', `র${ZWJ}্যাব`],
    ['an emoji family', `👨${ZWJ}👩${ZWJ}👧`],
    ['an emoji family with skin tones', `👨🏽${ZWJ}👩🏽${ZWJ}👧🏽`],
    ['an emoji sequence through a presentation selector', `🏳️${ZWJ}⚧️`],
    ['a subdivision flag (an emoji tag sequence)', '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}'],
    ['a regional flag and a keycap', '🇫🇷 1️⃣'],
    ['punctuation a query would choke on', "O'Brien & Sons; -- Ltd"],
  ])('accepts %s', (_what, value) => {
    expect(textProblem(value)).toBeUndefined();
  });

  const direction = /^must not contain direction-changing characters \(U\+[0-9A-F]{4} at character 2\)$/;
  it.each(['\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u061C'])(
    'refuses the direction control %j',
    (control) => {
      expect(textProblem(`a${control}b`)).toMatch(direction);
    },
  );

  it.each([
    ['a zero-width space', 'a\u200Bb', 'U+200B'],
    ['a word joiner', 'a\u2060b', 'U+2060'],
    ['a zero-width no-break space (BOM)', 'a\uFEFFb', 'U+FEFF'],
    ['a soft hyphen', 'a\u00ADb', 'U+00AD'],
    ['an invisible math operator', 'a\u2062b', 'U+2062'],
    ['tag characters that spell hidden text', 'hi\u{E0068}\u{E0069}', 'U+E0068'],
    ['a flag tag sequence without its cancel tag', '🏴\u{E0067}\u{E0062}', 'U+E0067'],
  ])('refuses %s, naming it', (_what, value, codePoint) => {
    expect(textProblem(value)).toMatch(new RegExp(`^must not contain invisible formatting characters \\(${codePoint.replace('+', '\\+')} at character \\d+\\)$`));
  });

  it.each([
    ['a ZWJ at the start', `${ZWJ}abc`],
    ['a ZWNJ at the end', `abc${ZWNJ}`],
    ['a ZWNJ before a space', `a${ZWNJ} b`],
    ['a ZWJ between digits', `1${ZWJ}2`],
    ['a ZWJ between a letter and an emoji', `a${ZWJ}👩`],
    ['a ZWNJ between emoji', `👨${ZWNJ}👩`],
    ['two joiners in a row', `a${ZWJ}${ZWJ}b`],
  ])('refuses a joiner that joins nothing: %s', (_what, value) => {
    expect(textProblem(value)).toMatch(/^may hold a zero-width joiner or non-joiner only between letters or emoji \(U\+200[CD] at character \d+\)$/);
  });

  it.each([
    ['a Hangul filler', '\u3164'],
    ['blank braille patterns', '\u2800\u2800'],
    ['a combining mark without a base', '\u0301'],
    ['ideographic spaces', '\u3000\u3000'],
  ])('refuses text with no visible character: %s', (_what, value) => {
    expect(textProblem(value)).toBe('must contain a visible character');
  });

  it('refuses control characters and unpaired surrogates', () => {
    expect(textProblem('Acme\u001b[31mLtd')).toBe('must not contain control characters');
    expect(textProblem('a\uD800b')).toMatch(/unpaired surrogate/);
  });
});

describe('text inputs', () => {
  it('store names and reasons in NFC, trimmed', () => {
    expect(nameSchema.parse(' Cafe\u0301 ')).toBe('Café');
    expect(reasonSchema.parse('re\u0301sume\u0301')).toBe('résumé');
    expect(nameSchema.parse('\u212B')).toBe('\u00C5'); // the angstrom sign's canonical form
    expect(nameSchema.parse(`می${ZWNJ}خواهم`)).toBe(`می${ZWNJ}خواهم`);
  });

  it('keep an idempotency key exactly as sent, but check it like any text', () => {
    expect(idempotencyKeySchema.parse('cle\u0301-1')).toBe('cle\u0301-1');
    expect(idempotencyKeySchema.safeParse('key\u200B').success).toBe(false);
  });

  it('measure the length after normalising', () => {
    expect(nameSchema.safeParse(`${'e\u0301'.repeat(255)}`).success).toBe(true);
    expect(nameSchema.safeParse('é'.repeat(256)).success).toBe(false);
  });

  // Every free-text field of every domain input, with the key the error must name.
  const FIELDS: Array<[string, (value: string) => unknown, string]> = [
    ['the account name', (v) => validateInput(registerInputSchema, register({ accountName: v })), 'accountName'],
    ['the first name', (v) => validateInput(registerInputSchema, register({ firstName: v })), 'firstName'],
    ['the last name', (v) => validateInput(registerInputSchema, register({ lastName: v })), 'lastName'],
    ['the billing address', (v) => validateInput(registerInputSchema, register({ billingAddress: v })), 'billingAddress'],
    ['the billing city', (v) => validateInput(registerInputSchema, register({ billingCity: v })), 'billingCity'],
    ['the site name', (v) => validateInput(createSiteInputSchema, site({ name: v })), 'name'],
    ['the site description', (v) => validateInput(createSiteInputSchema, site({ description: v })), 'description'],
    ['the site domain', (v) => validateInput(createSiteInputSchema, site({ domain: `https://exa${v}mple.com` })), 'domain'],
    ['the sector name', (v) => validateInput(createSectorInputSchema, { site: 's', industrySector: 'saas', name: v }), 'name'],
    ['the reason', (v) => validateInput(creditInputSchema, credit({ reason: v })), 'reason'],
    ['the idempotency key', (v) => validateInput(creditInputSchema, credit({ idempotencyKey: v })), 'idempotencyKey'],
  ];

  it.each(FIELDS)('%s refuses a zero-width space and a right-to-left override, naming the field', (_what, parse, field) => {
    for (const hidden of ['\u200B\u200B\u200B', '\u202E']) {
      let error: unknown;
      try {
        parse(hidden);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).message).toMatch(/must not contain (invisible formatting|direction-changing) characters \(U\+20[0-9A-F]{2}/);
    }
  });
});

function register(overrides: Record<string, string>) {
  return { email: 'a@example.com', password: 'Test123!', accountName: 'A', plan: 'free', ...overrides };
}

function site(overrides: Record<string, string>) {
  return { account: 'a', name: 'S', domain: 's.com', industry: 'technology', ...overrides };
}

function credit(overrides: Record<string, string>) {
  return { account: 'a', amount: '5', reason: 'r', ...overrides };
}
