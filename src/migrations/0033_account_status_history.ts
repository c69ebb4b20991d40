// Every change of an account's status is recorded: when, from what, to what and why. A
// trigger on igny8_accounts writes the row, so a status set by igny8's commands, by the
// billing run or by the legacy application is recorded the same way; igny8's commands say
// why through the transaction-local setting igny8.status_reason. The history is what the
// inactive-account-activity rule judges activity against (accounts changed before this
// migration have no history, and are not judged).
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { STATUS_HISTORY_TABLE } from '../domain/account-status.js';

const migration: Migration = {
  description: 'accounts: a status history written by a trigger on every status change',
  phase: 'expand',
  // The trigger and the history's key to accounts: catalog changes only, no rows read.
  locks: [{ table: 'igny8_accounts', mode: 'SHARE ROW EXCLUSIVE' }],
  async up({ trx, note }) {
    // The trigger runs as its owner (security definer) and names the history with its schema:
    // a client allowed to change an account's status (the legacy application's role, too)
    // needs no grant on the history, and its search_path cannot redirect the insert.
    const [{ schema }] = (await trx.raw(`select current_schema() as schema`)).rows as Array<{ schema: string }>;
    const history = `"${schema}".${STATUS_HISTORY_TABLE}`;
    await execStatements(trx, [
      `create table ${STATUS_HISTORY_TABLE} (
         id bigserial primary key,
         account_id bigint not null references igny8_accounts(id),
         from_status varchar(20) null,
         to_status varchar(20) not null,
         reason text null,
         changed_at timestamptz not null default now()
       )`,
      `create index ${STATUS_HISTORY_TABLE}_account_id_changed_at on ${STATUS_HISTORY_TABLE} (account_id, changed_at)`,
      `create function igny8_record_account_status() returns trigger language plpgsql security definer as $$
       begin
         if tg_op = 'INSERT' or new.status is distinct from old.status then
           insert into ${history} (account_id, from_status, to_status, reason)
           values (new.id, case when tg_op = 'UPDATE' then old.status end, new.status,
                   nullif(current_setting('igny8.status_reason', true), ''));
         end if;
         return null;
       end
       $$`,
      `create trigger igny8_accounts_status_history after insert or update of status on igny8_accounts
         for each row execute function igny8_record_account_status()`,
    ]);
    note('account status changes are recorded from now on');
  },
  async down({ trx }) {
    await execStatements(trx, [
      `drop trigger igny8_accounts_status_history on igny8_accounts`,
      `drop function igny8_record_account_status()`,
      `drop table ${STATUS_HISTORY_TABLE}`,
    ]);
  },
};

export default migration;
