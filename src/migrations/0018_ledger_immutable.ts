// seed #11: ledger rows are history; a correction is a new row. A trigger refuses UPDATE,
// DELETE and TRUNCATE, whoever issues them (SQLSTATE 23001, restrict_violation).
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';

const migration: Migration = {
  description: 'ledger: rows can never be updated or deleted (seed #11)',
  phase: 'contract',
  locks: [
    { table: 'igny8_credit_transactions', mode: 'SHARE ROW EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await execStatements(trx, [
      `create function igny8_ledger_immutable() returns trigger language plpgsql as $$
       begin
         raise exception using
           errcode = 'restrict_violation',
           message = 'igny8_credit_transactions rows are immutable: record a correction as a new ledger row';
       end
       $$`,
      `create trigger igny8_credit_transactions_immutable before update or delete on igny8_credit_transactions
         for each row execute function igny8_ledger_immutable()`,
      `create trigger igny8_credit_transactions_no_truncate before truncate on igny8_credit_transactions
         for each statement execute function igny8_ledger_immutable()`,
    ]);
    note('ledger rows are immutable from now on');
  },
  async down({ trx }) {
    await execStatements(trx, [
      `drop trigger igny8_credit_transactions_no_truncate on igny8_credit_transactions`,
      `drop trigger igny8_credit_transactions_immutable on igny8_credit_transactions`,
      `drop function igny8_ledger_immutable()`,
    ]);
  },
};

export default migration;
