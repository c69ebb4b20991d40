// Emails and people's names in reports that leave the terminal: an email keeps its first
// character and its domain wherever it appears in a value, a name field keeps its first
// letter, everything else is left as it was, and --show-personal-data shows them whole.
import { describe, expect, it } from 'vitest';
import { isPersonNameField, maskEmails, maskName, maskPersonalData, reportForSharing } from '../../src/render/personal-data.js';
import { auditReport, checkResult } from '../helpers/audit-reports.js';

describe('maskEmails', () => {
  it('keeps the first character of the local part and the whole domain', () => {
    expect(maskEmails('ann@example.com')).toBe('a***@example.com');
    expect(maskEmails('Maria.Lopez+billing@mail.northwind.co.uk')).toBe('M***@mail.northwind.co.uk');
  });

  it('finds emails anywhere in a value: keys, lists, prose, quotes and brackets', () => {
    expect(maskEmails('email:tom@brightseo.example')).toBe('email:t***@brightseo.example');
    expect(maskEmails('ann@x.io, sam@y.io')).toBe('a***@x.io, s***@y.io');
    expect(maskEmails('duplicate key (lower(email))=(ann@x.io) already exists')).toBe('duplicate key (lower(email))=(a***@x.io) already exists');
    expect(maskEmails(`"ann@x.io" <bob@y.io> 'o'brien@z.io'`)).toBe(`"a***@x.io" <b***@y.io> 'o***@z.io'`);
  });

  it('masks addresses outside ASCII and is idempotent', () => {
    expect(maskEmails('jürgen@müller.example')).toBe('j***@müller.example');
    expect(maskEmails('Δ@παράδειγμα.ελ')).toBe('Δ***@παράδειγμα.ελ');
    expect(maskEmails(maskEmails('ann@example.com'))).toBe('a***@example.com');
  });

  it('leaves text without an email alone', () => {
    for (const text of ['user:12', 'acme', '@mention', 'root@localhost', 'a @ b.com', '2026-03-01', '']) expect(maskEmails(text)).toBe(text);
  });
});

describe('names', () => {
  it('keep their first letter', () => {
    expect(maskName('Maria')).toBe('M***');
    expect(maskName('Ōtani Shōhei')).toBe('Ō***');
    expect(maskName('')).toBe('');
  });

  it('are recognised by field, in any spelling, and an account or site name is not one', () => {
    for (const field of ['first_name', 'last_name', 'firstName', 'LastName', 'full_name', 'username', 'wp_username', 'user-name']) {
      expect(isPersonNameField(field), field).toBe(true);
    }
    for (const field of ['name', 'account', 'site', 'display_name_id', 'email', 'plan']) expect(isPersonNameField(field), field).toBe(false);
  });
});

describe('maskPersonalData', () => {
  const sample = {
    key: 'email:ann@x.io',
    account: 'acme',
    user_id: 12,
    email: 'ann@x.io',
    first_name: 'Ann',
    last_name: 'Lee',
    name: 'Acme blog',
    active: true,
    missing: null,
    owner: { email: 'bob@y.io', firstName: 'Bob', tags: ['cc carol@z.io'] },
    wp_username: 'alee',
  };

  it('masks every email and name field, nested ones included, and nothing else', () => {
    expect(maskPersonalData(sample)).toEqual({
      key: 'email:a***@x.io',
      account: 'acme',
      user_id: 12,
      email: 'a***@x.io',
      first_name: 'A***',
      last_name: 'L***',
      name: 'Acme blog',
      active: true,
      missing: null,
      owner: { email: 'b***@y.io', firstName: 'B***', tags: ['cc c***@z.io'] },
      wp_username: 'a***',
    });
  });

  it('returns a copy: the sample itself is unchanged', () => {
    const before = structuredClone(sample);
    maskPersonalData(sample);
    expect(sample).toEqual(before);
  });
});

describe('reportForSharing', () => {
  const report = auditReport([
    checkResult('duplicate-emails', {
      status: 'findings',
      count: 1,
      samples: [{ key: 'email:ann@x.io', email: 'ann@x.io', first_name: 'Ann' }],
      notes: ['suppression of email:bob@y.io expired on 2026-01-01: counted again (merge)'],
    }),
    checkResult('orphan-users', { status: 'error', error: 'duplicate key (email)=(carol@z.io) (SQLSTATE 23505)' }),
    checkResult('multiple-owners', { status: 'not-applicable', reason: 'owner dave@w.io has no role column' }),
  ]);

  it('masks samples, notes, errors and reasons by default, leaving the report given untouched', () => {
    const shared = reportForSharing(report);
    const text = JSON.stringify(shared);
    for (const email of ['ann@x.io', 'bob@y.io', 'carol@z.io', 'dave@w.io']) expect(text).not.toContain(email);
    expect(shared.checks[0].samples[0]).toEqual({ key: 'email:a***@x.io', email: 'a***@x.io', first_name: 'A***' });
    expect(shared.checks[0].notes[0]).toContain('email:b***@y.io');
    expect(shared.checks[1].error).toContain('c***@z.io');
    expect(shared.checks[2].reason).toContain('d***@w.io');
    expect(JSON.stringify(report)).toContain('ann@x.io');
  });

  it('shows everything with showPersonalData', () => {
    expect(reportForSharing(report, { showPersonalData: true })).toEqual(report);
  });
});
