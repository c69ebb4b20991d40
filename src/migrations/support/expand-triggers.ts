// The triggers that keep a new structure complete while the legacy application, which does not
// know it, writes beside the new one (between expand and contract). Only where the new
// application could not work without them (DECISIONS: a plan on a new subscription, an account
// on a new access row); what else the legacy application gets wrong, the audit finds and the
// repairs fix before contract. Contract drops them: the target schema has none of them.
import type { Knex } from 'knex';
import { execStatements } from '../../db/transaction.js';

interface FillTrigger {
  table: string;
  name: string;
  /** The plpgsql statement that fills NEW's column where it is NULL. */
  fill: string;
  column: string;
}

export const SUBSCRIPTION_PLAN: FillTrigger = {
  table: 'igny8_subscriptions',
  name: 'igny8_subscriptions_plan_from_account',
  column: 'plan_id',
  // A subscription the legacy application inserts has no plan: the account's is the only one it knows.
  fill: `select a.plan_id into new.plan_id from igny8_accounts a where a.id = new.account_id;`,
};

export const ACCESS_ACCOUNT: FillTrigger = {
  table: 'igny8_site_user_access',
  name: 'igny8_site_user_access_account_from_site',
  column: 'account_id',
  fill: `select s.account_id into new.account_id from igny8_sites s where s.id = new.site_id;`,
};

export async function createFillTrigger(trx: Knex.Transaction, t: FillTrigger): Promise<void> {
  await execStatements(trx, [
    // The legacy application's sessions read igny8_legacy first, where igny8_sites is its view:
    // the function resolves names as the migration did.
    `create or replace function ${t.name}() returns trigger language plpgsql set search_path from current as $$
     begin
       if new.${t.column} is null then
         ${t.fill}
       end if;
       return new;
     end
     $$`,
    `create trigger ${t.name} before insert on ${t.table} for each row execute function ${t.name}()`,
  ]);
}

export async function dropFillTrigger(trx: Knex.Transaction, t: FillTrigger): Promise<void> {
  await execStatements(trx, [`drop trigger if exists ${t.name} on ${t.table}`, `drop function if exists ${t.name}()`]);
}
