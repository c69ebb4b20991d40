import { describe, expect, it } from 'vitest';
import {
  amountSchema,
  domainSchema,
  emailSchema,
  nameSchema,
  passwordSchema,
  registerInputSchema,
} from '../../src/domain/inputs.js';
import { allowsAnother, effectiveSectorLimit, exceedsLimit, siteLimit, userLimit } from '../../src/domain/limits.js';
import { isUniqueViolationOn, slugify, withSuffix } from '../../src/domain/slugs.js';
import { formatInvoiceNumber } from '../../src/domain/invoices.js';

describe('slugify', () => {
  it.each([
    ['Test Account', 'test-account'],
    ['  Ünïcödé Café & Co.  ', 'unicode-cafe-co'],
    ["Robert'); DROP TABLE igny8_users;--", 'robert-drop-table-igny8-users'],
    ['!!!', ''],
    ['a---b', 'a-b'],
  ])('%j → %j', (text, slug) => {
    expect(slugify(text)).toBe(slug);
  });

  it('cuts to the length without a trailing dash, and suffixes within it', () => {
    expect(slugify('abc def ghi', 4)).toBe('abc');
    expect(withSuffix('a'.repeat(50), 12, 50)).toBe(`${'a'.repeat(47)}-12`);
    expect(withSuffix('site', 2, 50)).toBe('site-2');
  });

  it('recognises a unique violation on the slug column only', () => {
    const onSlug = { code: '23505', detail: 'Key (account_id, slug)=(1, blog) already exists.' };
    const onEmail = { code: '23505', detail: 'Key (lower(email::text))=(a@b.c) already exists.' };
    expect(isUniqueViolationOn(onSlug, 'slug')).toBe(true);
    expect(isUniqueViolationOn(onEmail, 'slug')).toBe(false);
    expect(isUniqueViolationOn({ code: '23503', detail: onSlug.detail }, 'slug')).toBe(false);
  });
});

describe('plan limits (shared with the audit)', () => {
  it('reads 0 as unlimited and a legacy NULL sector limit as 5', () => {
    expect(effectiveSectorLimit(0)).toBeNull();
    expect(effectiveSectorLimit(null)).toBe(5);
    expect(effectiveSectorLimit(3)).toBe(3);
    expect(siteLimit(0)).toBeNull();
    expect(userLimit(2)).toBe(2);
  });

  it('allows one more only while within the limit, and never flags what it allowed', () => {
    for (const limit of [null, 1, 3]) {
      for (let count = 0; count < 5; count++) {
        if (allowsAnother(count, limit)) expect(exceedsLimit(count + 1, limit)).toBe(false);
      }
    }
    expect(allowsAnother(0, 1)).toBe(true);
    expect(allowsAnother(1, 1)).toBe(false);
    expect(allowsAnother(10_000, null)).toBe(true);
  });
});

describe('input schemas', () => {
  it('accepts the seed examples', () => {
    expect(passwordSchema.safeParse('Test123!').success).toBe(true);
    expect(emailSchema.parse('  paid@example.com ')).toBe('paid@example.com');
    expect(domainSchema.safeParse('https://test.com').success).toBe(true);
    expect(domainSchema.safeParse('test.com').success).toBe(true);
  });

  it.each(['short1!', 'password1', 'alllowercase', 'abcdefgh', 'aaaaaaaaaaaaaaaaaaaa', 'Tab\tbed123'])(
    'rejects the weak password %j without echoing it',
    (password) => {
      const result = passwordSchema.safeParse(password);
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues.map((issue) => issue.message))).not.toContain(password);
    },
  );

  it.each([
    ['0', false],
    ['-5', false],
    ['1', true],
    ['2147483647', true],
    ['2147483648', false],
    ['1e3', false],
    ['12.5', false],
    [' 7 ', true],
  ])('amount %j → valid %s', (amount, valid) => {
    expect(amountSchema.safeParse(amount).success).toBe(valid);
  });

  it('rejects control characters and 10 kB names', () => {
    expect(nameSchema.safeParse('Acme\u0000Ltd').success).toBe(false);
    expect(nameSchema.safeParse('Acme\nLtd').success).toBe(false);
    expect(nameSchema.safeParse('x'.repeat(10_240)).success).toBe(false);
    expect(nameSchema.safeParse("O'Brien & Sons; -- Ltd").success).toBe(true);
  });

  it('names the failing field', () => {
    const result = registerInputSchema.safeParse({ email: 'nope', password: 'Test123!', accountName: 'A', plan: 'free' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['email']);
  });

  it('formats invoice numbers with a fixed width', () => {
    expect(formatInvoiceNumber(42)).toBe('INV-00000042');
  });
});
