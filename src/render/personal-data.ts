// Personal data in reports that leave the terminal. Markdown, HTML and github output land in CI
// logs, pull-request comments and shared pages, which are not private: there an email keeps its
// first character and its domain (`a***@example.com`) and a person's name its first letter,
// unless --show-personal-data asks for them whole. Table and json output keep them.
import type { AuditReport, CheckResult } from '../audit/run.js';
import type { Sample } from '../rules/finding.js';

export interface PersonalDataOptions {
  /** Show emails and names as stored (--show-personal-data); masked by default. */
  showPersonalData?: boolean;
}

// The local part's first character is never a quote or a dot, so a quoted address keeps its
// quotes outside the match; the domain is two or more labels of letters, digits and hyphens.
const EMAIL =
  /[\p{L}\p{N}_%+!#$&*/=?^{}~-][\p{L}\p{N}._%+!#$&'*/=?^{}~-]*@([\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+)/gu;

/** Every email in the text becomes its local part's first character, `***` and its domain. */
export function maskEmails(text: string): string {
  return text.replace(EMAIL, (match: string, domain: string) => `${String.fromCodePoint(match.codePointAt(0)!)}***@${domain}`);
}

/** A person's name keeps its first letter: `Ann` → `A***`; an empty name stays empty. */
export function maskName(name: string): string {
  const first = name.trim().codePointAt(0);
  return first === undefined ? name : `${String.fromCodePoint(first)}***`;
}

// Fields that hold a person's name, compared without case or separators (first_name, firstName).
// An account's or a site's `name` is not a person's and stays.
const NAME_FIELDS = new Set([
  'firstname',
  'lastname',
  'middlename',
  'fullname',
  'givenname',
  'familyname',
  'surname',
  'username',
  'wpusername',
  'ownername',
  'contactname',
  'billingname',
]);

/** Whether a field (a sample column or a JSON key) holds a person's name. */
export function isPersonNameField(field: string): boolean {
  return NAME_FIELDS.has(field.toLowerCase().replace(/[_\s-]/g, ''));
}

function maskValue(value: unknown, nameField: boolean): unknown {
  if (typeof value === 'string') return nameField ? maskName(value) : maskEmails(value);
  if (Array.isArray(value)) return value.map((item) => maskValue(item, nameField));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([field, inner]) => [field, maskValue(inner, isPersonNameField(field))]));
  }
  return value;
}

/** A copy of the sample with every email masked, wherever it is, and every person's name cut to its first letter. */
export function maskPersonalData<T extends Sample>(sample: T): T {
  return maskValue(sample, false) as T;
}

/** The report as a shared output shows it: samples, notes and errors masked unless showPersonalData. */
export function reportForSharing(report: AuditReport, options: PersonalDataOptions = {}): AuditReport {
  if (options.showPersonalData) return report;
  const text = (value: string | undefined) => (value === undefined ? undefined : maskEmails(value));
  const checks = report.checks.map(
    (check): CheckResult => ({
      ...check,
      samples: check.samples.map(maskPersonalData),
      notes: check.notes.map(maskEmails),
      ...(check.error !== undefined ? { error: text(check.error) } : {}),
      ...(check.reason !== undefined ? { reason: text(check.reason) } : {}),
    }),
  );
  return { ...report, checks, failure: report.failure === null ? null : maskEmails(report.failure) };
}
