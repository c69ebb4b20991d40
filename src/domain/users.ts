// The members of an account: adding one within the plan's max_users, changing an email,
// deactivating a user, and handing the ownership to another member.
//
// Every operation locks the account row first (FOR UPDATE), so operations on one account's
// members run one after the other: two `user add` for the last seat, a transfer racing
// another transfer or the deactivation of the user it names. Emails stay unique ignoring
// case through the unique index on lower(email): the index decides under concurrency, never
// a check-then-insert.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { DomainRefusal, InternalError, ValidationError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { withTransaction } from '../db/transaction.js';
import { ownerIntoRoles } from '../rules/owner-role-mismatch.js';
import { plural } from '../render/text.js';
import { assertAccountCanGrow } from './account-gate.js';
import { findAccountBySlug } from './accounts.js';
import type { AddUserInput, ChangeEmailInput, DeactivateUserInput, MemberRole, TransferOwnershipInput } from './inputs.js';
import { allowsAnother, userLimit } from './limits.js';
import { hashPassword, OWASP_SCRYPT_COST, type ScryptCost } from './passwords.js';
import { isEmailTaken } from './register.js';
import { requireTargetSchema } from './target-schema.js';

const USERS = 'igny8_users';
const ACCOUNTS = 'igny8_accounts';

export interface UserOptions {
  /** Only for tests of behaviour other than passwords; the CLI always uses the OWASP cost. */
  scryptCost?: ScryptCost;
}

/** An account row locked for the rest of the transaction, with what its plan allows. */
export interface LockedAccount {
  id: number;
  slug: string;
  status: string;
  plan_slug: string;
  max_users: number;
}

/** Locks the account (by slug or id) until the transaction ends; `field` names the input. */
export async function lockAccount(
  trx: Knex.Transaction,
  key: { slug: string } | { id: number },
  field = 'account',
): Promise<LockedAccount> {
  const query = trx(`${ACCOUNTS} as a`).join('igny8_plans as p', 'p.id', 'a.plan_id').forUpdate('a');
  if ('slug' in key) query.where('a.slug', key.slug);
  else query.where('a.id', key.id);
  const [account] = (await query.select('a.id', 'a.slug', 'a.status', 'p.slug as plan_slug', 'p.max_users')) as LockedAccount[];
  if (!account) {
    throw new ValidationError(field, 'slug' in key ? `no account with slug "${key.slug}"` : `no account with id ${key.id}`);
  }
  return account;
}

function emailTaken(error: unknown): DomainRefusal {
  return new DomainRefusal('email already registered', { cause: error, code: 'email-taken' });
}

/**
 * What Django stores for a user who has no password yet (`set_unusable_password`): a value
 * no password hashes to, so nobody can sign in until a password is set in the application.
 */
function unusablePassword(): string {
  return `!${randomBytes(30).toString('base64url')}`;
}

export interface AddedUser {
  account: { id: number; slug: string };
  user: { id: number; email: string; role: MemberRole; isActive: boolean; hasPassword: boolean };
  /** Users of the account after this one, and the plan's limit (0 = unlimited). */
  users: number;
  maxUsers: number;
}

/** Adds a member to an account; `input` is parsed already (addUserInputSchema). */
export async function addUser(knex: Knex, input: AddUserInput, options: UserOptions = {}): Promise<AddedUser> {
  await requireTargetSchema(knex);
  // An unknown account fails before a hash is spent on it; the transaction locks it again.
  await findAccountBySlug(knex, input.account);
  let passwordHash: string;
  if (input.password !== undefined) {
    registerSecret(input.password);
    // Hashed before the transaction opens, as registration does: no lock waits on scrypt.
    passwordHash = await hashPassword(input.password, options.scryptCost ?? OWASP_SCRYPT_COST);
  } else {
    passwordHash = unusablePassword();
  }
  registerSecret(passwordHash);
  try {
    return await withTransaction(knex, async (trx) => {
      const account = await lockAccount(trx, { slug: input.account });
      await assertAccountCanGrow(trx, account, 'new users');
      return insertMember(trx, account, input, passwordHash);
    });
  } catch (error) {
    if (isEmailTaken(error)) throw emailTaken(error);
    throw error;
  }
}

/** The member's row, once the locked account is known to allow one more user. */
async function insertMember(
  trx: Knex.Transaction,
  account: LockedAccount,
  input: AddUserInput,
  passwordHash: string,
): Promise<AddedUser> {
  // Every user row counts, deactivated ones too: the definition site-limit-exceeded audits.
  const [{ count }] = (await trx(USERS).where('account_id', account.id).count({ count: '*' })) as Array<{ count: number | string }>;
  const users = Number(count);
  if (!allowsAnother(users, userLimit(account.max_users))) {
    throw new DomainRefusal(
      `user limit reached: plan "${account.plan_slug}" allows ${plural(account.max_users, 'user')} and account "${account.slug}" has ${users}`,
      { code: 'user-limit' },
    );
  }
  const [user] = (await trx(USERS)
    .insert({
      email: input.email,
      password: passwordHash,
      first_name: input.firstName ?? '',
      last_name: input.lastName ?? '',
      role: input.role,
      account_id: account.id,
      is_active: true,
    })
    .returning(['id', 'email'])) as Array<{ id: number; email: string }>;
  return {
    account: { id: account.id, slug: account.slug },
    user: { id: user.id, email: user.email, role: input.role, isActive: true, hasPassword: input.password !== undefined },
    users: users + 1,
    maxUsers: account.max_users,
  };
}

export interface UserRef {
  id: number;
  email: string;
  role: string;
  isActive: boolean;
  account: { id: number; slug: string } | null;
}

interface UserRow {
  id: number;
  email: string;
  role: string;
  is_active: boolean;
  account_id: number | null;
  account_slug: string | null;
}

function toRef(row: UserRow): UserRef {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    isActive: row.is_active,
    account: row.account_id === null ? null : { id: row.account_id, slug: row.account_slug ?? '' },
  };
}

/**
 * The user an operator means by `email`: the exact address first; otherwise the one address
 * equal to it ignoring case. Several such addresses (only where the case-insensitive index
 * is not in place yet) are bad input, listed, unless `userId` picks one of them.
 */
export async function resolveUser(
  knex: Knex | Knex.Transaction,
  email: string,
  userId: number | undefined,
  field: string,
): Promise<UserRef> {
  const rows = (await knex(`${USERS} as u`)
    .leftJoin(`${ACCOUNTS} as a`, 'a.id', 'u.account_id')
    .whereRaw('lower(u.email) = lower(?)', [email])
    .orderBy('u.id')
    .select('u.id', 'u.email', 'u.role', 'u.is_active', 'u.account_id', 'a.slug as account_slug')) as UserRow[];
  if (userId !== undefined) {
    const chosen = rows.find((row) => row.id === userId);
    if (!chosen) throw new ValidationError('userId', `user ${userId} does not have the email given with ${field}`);
    return toRef(chosen);
  }
  const exact = rows.filter((row) => row.email === email);
  if (exact.length === 1) return toRef(exact[0]);
  if (rows.length === 1) return toRef(rows[0]);
  if (rows.length === 0) throw new ValidationError(field, `no user with email "${email}"`);
  throw new ValidationError(field, `${rows.length} users have this email ignoring case: choose one with --user-id`, {
    details: rows.map((row) => `user ${row.id}  ${row.email}  account ${row.account_slug ?? '(none)'}  ${row.role}`),
  });
}

/** Locks the user's account, then reads the user again: what it is now, not before the lock. */
async function lockMember(trx: Knex.Transaction, user: UserRef): Promise<UserRef> {
  if (user.account) await lockAccount(trx, { id: user.account.id });
  const [row] = (await trx(`${USERS} as u`)
    .leftJoin(`${ACCOUNTS} as a`, 'a.id', 'u.account_id')
    .where('u.id', user.id)
    .forUpdate('u')
    .select('u.id', 'u.email', 'u.role', 'u.is_active', 'u.account_id', 'a.slug as account_slug')) as UserRow[];
  if (!row) throw new DomainRefusal(`user ${user.id} was removed meanwhile`, { code: 'user-gone' });
  return toRef(row);
}

export interface ChangedEmail {
  user: UserRef;
  from: string;
  to: string;
  /** False when the user had that exact email already. */
  changed: boolean;
}

/** Changes one user's email; `input` is parsed already (changeEmailInputSchema). */
export async function changeEmail(knex: Knex, input: ChangeEmailInput): Promise<ChangedEmail> {
  await requireTargetSchema(knex);
  try {
    return await withTransaction(knex, async (trx) => {
      const user = await lockMember(trx, await resolveUser(trx, input.from, input.userId, 'from'));
      if (user.email === input.to) return { user, from: user.email, to: input.to, changed: false };
      await trx(USERS).where('id', user.id).update({ email: input.to });
      return { user: { ...user, email: input.to }, from: user.email, to: input.to, changed: true };
    });
  } catch (error) {
    if (isEmailTaken(error)) throw emailTaken(error);
    throw error;
  }
}

export interface DeactivatedUser {
  user: UserRef;
  deactivatedAt: Date | null;
  /** False when the user was deactivated already. */
  changed: boolean;
}

/** Deactivates a member (never the owner); `input` is parsed already (deactivateUserInputSchema). */
export async function deactivateUser(knex: Knex, input: DeactivateUserInput): Promise<DeactivatedUser> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const user = await lockMember(trx, await resolveUser(trx, input.email, input.userId, 'email'));
    if (user.role === 'owner') {
      const account = user.account?.slug ?? 'ACCOUNT';
      throw new DomainRefusal(`${user.email} is the owner of account "${account}" and cannot be deactivated`, {
        code: 'owner-cannot-be-deactivated',
        details: [`hand the account to another member first: igny8 account transfer-ownership --account ${account} --to EMAIL`],
      });
    }
    if (!user.isActive) {
      const [row] = (await trx(USERS).where('id', user.id).select('deactivated_at')) as Array<{ deactivated_at: Date | null }>;
      return { user, deactivatedAt: row.deactivated_at, changed: false };
    }
    const [row] = (await trx(USERS)
      .where('id', user.id)
      .update({ is_active: false, deactivated_at: trx.fn.now() })
      .returning(['deactivated_at'])) as Array<{ deactivated_at: Date }>;
    return { user: { ...user, isActive: false }, deactivatedAt: row.deactivated_at, changed: true };
  });
}

export interface OwnershipTransfer {
  account: { id: number; slug: string };
  /** The owner before. */
  from: { id: number; email: string };
  /** The owner after, and the role they had. */
  to: { id: number; email: string; previousRole: string };
  /** False when `to` was the owner already. */
  changed: boolean;
  /** Sites the new owner was given access to (seed #10: every owner has access to every site). */
  sitesGranted: number;
}

async function hasOwnerIdColumn(trx: Knex.Transaction): Promise<boolean> {
  const result = await trx.raw(
    `select exists (select 1 from pg_attribute where attrelid = to_regclass(?) and attname = 'owner_id' and not attisdropped) as present`,
    [ACCOUNTS],
  );
  return (result.rows as Array<{ present: boolean }>)[0].present === true;
}

async function owners(trx: Knex.Transaction, accountId: number): Promise<Array<{ id: number; email: string }>> {
  return (await trx(USERS).where({ account_id: accountId, role: 'owner' }).orderBy('id').select('id', 'email')) as Array<{
    id: number;
    email: string;
  }>;
}

/**
 * Makes another member the account's owner; the owner before becomes admin. Exactly one
 * owner before and after: an account with none or several is refused and the repair that
 * settles it named. The roles change as migration 0009 and the owner-role-mismatch repair
 * change them (ownerIntoRoles, naming the new owner), and a legacy accounts.owner_id, where
 * the column is still there, names the new owner too.
 */
export async function transferOwnership(knex: Knex, input: TransferOwnershipInput): Promise<OwnershipTransfer> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const account = await lockAccount(trx, { slug: input.account });
    const before = await owners(trx, account.id);
    if (before.length !== 1) {
      const repair = before.length === 0 ? 'account-without-owner' : 'multiple-owners';
      throw new DomainRefusal(
        `account "${account.slug}" has ${plural(before.length, 'owner')}, not one: run \`igny8 repair ${repair}\` first`,
        { code: 'not-one-owner' },
      );
    }
    const member = await resolveUser(trx, input.to, undefined, 'to');
    if (member.account?.id !== account.id) {
      throw new DomainRefusal(`${member.email} is not a member of account "${account.slug}"`, { code: 'not-a-member' });
    }
    if (!member.isActive) {
      throw new DomainRefusal(`${member.email} is deactivated and cannot become the owner`, { code: 'user-inactive' });
    }
    const result: OwnershipTransfer = {
      account: { id: account.id, slug: account.slug },
      from: before[0],
      to: { id: member.id, email: member.email, previousRole: member.role },
      changed: member.id !== before[0].id,
      sitesGranted: 0,
    };
    if (!result.changed) return result;

    const legacyOwnerId = await hasOwnerIdColumn(trx);
    if (legacyOwnerId) await trx(ACCOUNTS).where('id', account.id).update({ owner_id: member.id, updated_at: trx.fn.now() });
    // Both ids come from the database: they are numbers, safe to write into the statement.
    const changes = ownerIntoRoles(
      { accounts: ACCOUNTS, accountColumn: 'account_id' },
      ` and a.id = ${Number(account.id)}`,
      legacyOwnerId ? 'a.owner_id' : `${Number(member.id)}::bigint`,
    );
    for (const change of [changes.demote, changes.promote]) {
      await trx.raw(`update ${USERS} u set role = ? from (${change.select}) c where u.id = c.id`, [change.role]);
    }
    // seed #10: the owner has access to every site of the account (site-access-missing).
    const granted = await trx.raw(
      `insert into igny8_site_user_access (account_id, user_id, site_id, granted_by_id)
       select s.account_id, ?, s.id, null from igny8_sites s
        where s.account_id = ?
          and not exists (select 1 from igny8_site_user_access x where x.site_id = s.id and x.user_id = ?)
       returning id`,
      [member.id, account.id, member.id],
    );
    result.sitesGranted = (granted.rows as unknown[]).length;

    const after = await owners(trx, account.id);
    if (after.length !== 1 || after[0].id !== member.id) {
      throw new InternalError(`ownership transfer left account "${account.slug}" with ${plural(after.length, 'owner')}`);
    }
    return result;
  });
}
