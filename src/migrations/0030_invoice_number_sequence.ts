// Invoice numbers from one sequence: two invoices created at the same moment can never draw
// the same number (a max()+1 would). The sequence starts past every number already written
// in the same format, so legacy invoices keep theirs and new ones never collide with them.
import type { Migration } from '../db/migrations.js';
import { INVOICE_NUMBER_SEQUENCE as SEQUENCE } from '../domain/invoices.js';

const migration: Migration = {
  description: `${SEQUENCE}: race-free invoice numbers (INV-00000001, ...)`,
  phase: 'expand',
  locks: [],
  async up({ trx, note }) {
    await trx.raw(`create sequence ${SEQUENCE} as bigint start with 1 minvalue 1`);
    const result = await trx.raw(
      `select coalesce(max(substring(invoice_number from '^INV-([0-9]{1,18})$')::bigint), 0) as highest from igny8_invoices`,
    );
    const highest = Number((result.rows as Array<{ highest: number | string }>)[0].highest);
    if (highest > 0) {
      await trx.raw(`select setval(?::regclass, ?)`, [SEQUENCE, highest]);
      note(`invoice numbers continue after INV-${String(highest).padStart(8, '0')}`);
    }
  },
  async down({ trx }) {
    await trx.raw(`drop sequence if exists ${SEQUENCE}`);
  },
};

export default migration;
