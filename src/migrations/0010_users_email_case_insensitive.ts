// Emails are unique ignoring case: two users whose addresses differ only in case are one
// person or a mistake, and only a person can tell which. The migration refuses until none remain.
import type { Migration } from '../db/migrations.js';
import { duplicateEmails } from '../rules/duplicate-emails.js';
import { requireRuleClean } from './support/preconditions.js';

const migration: Migration = {
  description: 'users: unique index on lower(email)',
  phase: 'contract',
  locks: [
    { table: 'igny8_users', mode: 'SHARE', work: 'scan' },
  ],
  async up({ trx, note }) {
    await requireRuleClean(trx, duplicateEmails, {
      guarantee: 'the unique index on lower(email)',
      what: 'email addresses used by several users when case is ignored',
      one: 'email address used by several users when case is ignored',
      resolve: 'for each address, decide which user keeps it and change the others’ email',
    });
    await trx.raw(`create unique index igny8_users_email_lower_key on igny8_users (lower(email))`);
    note('emails are now unique ignoring case');
  },
  async down({ trx }) {
    await trx.raw(`drop index igny8_users_email_lower_key`);
  },
};

export default migration;
