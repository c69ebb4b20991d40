import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { registerAccount } from '../../src/domain/register.js';
import { createSite } from '../../src/domain/sites.js';
import { grantSiteAccess, listSiteAccess, revokeSiteAccess } from '../../src/domain/site-access.js';
import { addUser, changeEmail, deactivateUser, transferOwnership } from '../../src/domain/users.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { verifyPassword } from '../../src/domain/passwords.js';
import * as api from '../../src/index.js';
import { describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { migratedServerPool } from '../helpers/templates.js';
import { countRows, FAST_SCRYPT, registerActive, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';

/** An active account on `plan`: a paid plan's signup invoice is paid (`unpaid` leaves it pending). */
async function newAccount(knex: Knex, plan: string, options: { unpaid?: boolean } = {}) {
  const input = { email: uniqueEmail('owner'), password: 'Test123!', accountName: uniqueName('Members'), plan };
  const r = options.unpaid ? await registerAccount(knex, input, { scryptCost: FAST_SCRYPT }) : await registerActive(knex, input);
  return { id: r.account.id, slug: r.account.slug, ownerId: r.user.id, ownerEmail: r.user.email };
}

async function owners(knex: Knex, accountId: number): Promise<string[]> {
  const rows = await knex('igny8_users').where({ account_id: accountId, role: 'owner' }).orderBy('id').select('email');
  return rows.map((row) => row.email as string);
}

describeEachDatabase(
  'users, ownership and site access',
  (fx) => {
    it('user add: a member with a hashed password, within max_users, email unique ignoring case', async () => {
      const account = await newAccount(fx.db.knex, 'starter'); // 2 users
      const email = uniqueEmail('Editor');
      const added = await addUser(
        fx.db.knex,
        { account: account.slug, email, role: 'editor', password: 'An0ther-Pass', firstName: 'Ed' },
        { scryptCost: FAST_SCRYPT },
      );
      expect(added).toMatchObject({ user: { email, role: 'editor', isActive: true, hasPassword: true }, users: 2, maxUsers: 2 });
      const [row] = await fx.db.knex('igny8_users').where('id', added.user.id);
      expect(row).toMatchObject({ account_id: account.id, role: 'editor', first_name: 'Ed', is_active: true });
      expect(await verifyPassword('An0ther-Pass', row.password)).toBe(true);

      const before = await countRows(fx.db.knex);
      await expect(
        addUser(fx.db.knex, { account: account.slug, email: uniqueEmail(), role: 'viewer' }),
      ).rejects.toThrow(/user limit reached: plan "starter" allows 2 users and account ".*" has 2/);
      const other = await newAccount(fx.db.knex, 'scale');
      const taken = addUser(fx.db.knex, { account: other.slug, email: email.toUpperCase(), role: 'admin' });
      await expect(taken).rejects.toThrow(DomainRefusal);
      await expect(taken).rejects.toThrow('email already registered');
      await expect(addUser(fx.db.knex, { account: 'no-such-account', email: uniqueEmail(), role: 'admin' })).rejects.toThrow(
        /account: no account with slug/,
      );
      // The programmatic API parses its input with the command line's rules first.
      await expect(api.addUser(fx.db.knex, { account: account.slug, email: 'no-at-sign', role: 'viewer' })).rejects.toMatchObject({
        field: 'email',
      });
      await expect(api.addUser(fx.db.knex, { account: account.slug, email: uniqueEmail(), role: 'owner' as 'admin' })).rejects.toMatchObject({
        field: 'role',
      });
      await expect(
        api.addUser(fx.db.knex, { account: account.slug, email: uniqueEmail(), role: 'viewer', lastName: 'Zero\u200Bwidth' }),
      ).rejects.toMatchObject({ field: 'lastName' });
      expect((await countRows(fx.db.knex)).igny8_users).toBe(before.igny8_users + 1); // only `other`'s owner
    });

    it('user add refuses an account that has not paid, naming the invoice, and writes nothing', async () => {
      const account = await newAccount(fx.db.knex, 'growth', { unpaid: true });
      const before = await countRows(fx.db.knex);
      const refused = addUser(fx.db.knex, { account: account.slug, email: uniqueEmail(), role: 'editor' });
      await expect(refused).rejects.toBeInstanceOf(DomainRefusal);
      await expect(refused).rejects.toThrow(/is pending_payment: no new users: pay invoice INV-\d+ \(139\.00 USD, pending\) first/);
      expect(await countRows(fx.db.knex)).toEqual(before);
    });

    it('user add without a password stores an unusable one', async () => {
      const account = await newAccount(fx.db.knex, 'growth');
      const added = await addUser(fx.db.knex, { account: account.slug, email: uniqueEmail(), role: 'viewer' });
      expect(added.user.hasPassword).toBe(false);
      const [row] = await fx.db.knex('igny8_users').where('id', added.user.id);
      expect(row.password).toMatch(/^!/);
    });

    it('user change-email: exact match first; several case-insensitive matches need --user-id', async () => {
      const account = await newAccount(fx.db.knex, 'scale');
      const email = uniqueEmail('mover');
      const added = await addUser(fx.db.knex, { account: account.slug, email, role: 'editor' });
      const to = uniqueEmail('moved');
      const changed = await changeEmail(fx.db.knex, { from: email.toUpperCase(), to });
      expect(changed).toMatchObject({ from: email, to, changed: true, user: { id: added.user.id } });
      expect((await fx.db.knex('igny8_users').where('id', added.user.id))[0].email).toBe(to);
      expect(await changeEmail(fx.db.knex, { from: to, to })).toMatchObject({ changed: false });
      await expect(changeEmail(fx.db.knex, { from: to, to: account.ownerEmail.toUpperCase() })).rejects.toThrow(
        'email already registered',
      );
      await expect(changeEmail(fx.db.knex, { from: uniqueEmail('nobody'), to: uniqueEmail() })).rejects.toThrow(
        /from: no user with email/,
      );

      // Several addresses equal ignoring case exist only where the case-insensitive index is
      // not in place yet (an expand-phase database); without it, --user-id picks one.
      const trx = await fx.db.knex.transaction();
      try {
        await trx.raw('drop index igny8_users_email_lower_key');
        const base = uniqueEmail('twin');
        const [a] = await trx('igny8_users').insert({ email: base, password: '!', role: 'editor', account_id: account.id }).returning('id');
        const [b] = await trx('igny8_users').insert({ email: base.toUpperCase(), password: '!', role: 'editor', account_id: account.id }).returning('id');
        // The exact address wins.
        expect((await changeEmail(trx, { from: base, to: base })).user.id).toBe(a.id);
        const mixed = base.replace(/^t/, 'T');
        const ambiguous = changeEmail(trx, { from: mixed, to: uniqueEmail() });
        await expect(ambiguous).rejects.toThrow(ValidationError);
        await expect(ambiguous).rejects.toThrow(/from: 2 users have this email ignoring case: choose one with --user-id/);
        const error = (await changeEmail(trx, { from: mixed, to: uniqueEmail() }).catch((e: unknown) => e)) as ValidationError;
        expect(error.details.join('\n')).toContain(`user ${b.id}`);
        const picked = uniqueEmail('picked');
        expect((await changeEmail(trx, { from: mixed, to: picked, userId: b.id })).user.id).toBe(b.id);
        await expect(changeEmail(trx, { from: picked, to: uniqueEmail(), userId: a.id })).rejects.toThrow(/userId: user/);
      } finally {
        await trx.rollback();
      }
    });

    it('user deactivate: never the owner; twice changes nothing', async () => {
      const account = await newAccount(fx.db.knex, 'growth');
      const added = await addUser(fx.db.knex, { account: account.slug, email: uniqueEmail('leaver'), role: 'admin' });
      const done = await deactivateUser(fx.db.knex, { email: added.user.email });
      expect(done).toMatchObject({ changed: true, user: { id: added.user.id, isActive: false } });
      const [row] = await fx.db.knex('igny8_users').where('id', added.user.id);
      expect(row.is_active).toBe(false);
      expect(row.deactivated_at).toBeInstanceOf(Date);
      expect(await deactivateUser(fx.db.knex, { email: added.user.email })).toMatchObject({ changed: false });
      const refusal = deactivateUser(fx.db.knex, { email: account.ownerEmail });
      await expect(refusal).rejects.toThrow(DomainRefusal);
      await expect(refusal).rejects.toThrow(/is the owner of account ".*" and cannot be deactivated/);
      expect((await fx.db.knex('igny8_users').where('id', account.ownerId))[0].is_active).toBe(true);
    });

    it('account transfer-ownership: one owner before and after, the old one admin, site access for the new one', async () => {
      const account = await newAccount(fx.db.knex, 'growth');
      const site = await createSite(fx.db.knex, { account: account.slug, name: 'Blog', domain: 'blog.example.com', industry: 'technology' });
      const heir = await addUser(fx.db.knex, { account: account.slug, email: uniqueEmail('heir'), role: 'editor' });
      const result = await transferOwnership(fx.db.knex, { account: account.slug, to: heir.user.email.toUpperCase() });
      expect(result).toMatchObject({ changed: true, from: { id: account.ownerId }, to: { id: heir.user.id, previousRole: 'editor' }, sitesGranted: 1 });
      expect(await owners(fx.db.knex, account.id)).toEqual([heir.user.email]);
      expect((await fx.db.knex('igny8_users').where('id', account.ownerId))[0].role).toBe('admin');
      expect(await fx.db.knex('igny8_site_user_access').where({ site_id: site.id, user_id: heir.user.id })).toHaveLength(1);
      expect(await transferOwnership(fx.db.knex, { account: account.slug, to: heir.user.email })).toMatchObject({ changed: false });

      const stranger = await newAccount(fx.db.knex, 'free');
      await expect(transferOwnership(fx.db.knex, { account: account.slug, to: stranger.ownerEmail })).rejects.toThrow(
        /is not a member of account/,
      );
      const gone = await addUser(fx.db.knex, { account: account.slug, email: uniqueEmail('gone'), role: 'admin' });
      await deactivateUser(fx.db.knex, { email: gone.user.email });
      await expect(transferOwnership(fx.db.knex, { account: account.slug, to: gone.user.email })).rejects.toThrow(/is deactivated/);
      await expect(transferOwnership(fx.db.knex, { account: account.slug, to: uniqueEmail() })).rejects.toThrow(/to: no user/);
      expect(await owners(fx.db.knex, account.id)).toEqual([heir.user.email]);
    });

    it('transfer-ownership refuses an account without an owner, naming the repair', async () => {
      const account = await newAccount(fx.db.knex, 'growth');
      const member = await addUser(fx.db.knex, { account: account.slug, email: uniqueEmail(), role: 'admin' });
      await fx.db.knex('igny8_users').where('id', account.ownerId).update({ role: 'admin' });
      await expect(transferOwnership(fx.db.knex, { account: account.slug, to: member.user.email })).rejects.toThrow(
        /has 0 owners, not one: run `igny8 repair account-without-owner` first/,
      );
      expect(await owners(fx.db.knex, account.id)).toEqual([]);
    });

    it('site access: grant, list, revoke; never across accounts, never the owner', async () => {
      const account = await newAccount(fx.db.knex, 'growth');
      const site = await createSite(fx.db.knex, { account: account.slug, name: 'Shop', domain: 'shop.example.com', industry: 'technology' });
      const editor = await addUser(fx.db.knex, { account: account.slug, email: uniqueEmail('ed'), role: 'editor' });
      const granted = await grantSiteAccess(fx.db.knex, { site: String(site.id), email: editor.user.email, by: account.ownerEmail });
      expect(granted).toMatchObject({ changed: true, site: { id: site.id, account: { slug: account.slug } } });
      const [row] = await fx.db.knex('igny8_site_user_access').where({ site_id: site.id, user_id: editor.user.id });
      expect(row).toMatchObject({ account_id: account.id, granted_by_id: account.ownerId });
      expect(await grantSiteAccess(fx.db.knex, { site: site.slug, account: account.slug, email: editor.user.email })).toMatchObject({
        changed: false,
      });
      const list = await listSiteAccess(fx.db.knex, { account: account.slug });
      expect(list.map((r) => [r.site.id, r.user.email, r.grantedBy])).toEqual([
        [site.id, account.ownerEmail, account.ownerEmail],
        [site.id, editor.user.email, account.ownerEmail],
      ]);

      const other = await newAccount(fx.db.knex, 'growth');
      await expect(grantSiteAccess(fx.db.knex, { site: String(site.id), email: other.ownerEmail })).rejects.toThrow(/is not a member of account/);
      await expect(revokeSiteAccess(fx.db.knex, { site: String(site.id), email: account.ownerEmail })).rejects.toThrow(
        /the owner keeps access to every site/,
      );
      expect(await revokeSiteAccess(fx.db.knex, { site: String(site.id), email: editor.user.email })).toMatchObject({ changed: true });
      expect(await revokeSiteAccess(fx.db.knex, { site: String(site.id), email: editor.user.email })).toMatchObject({ changed: false });
      expect((await listSiteAccess(fx.db.knex, { site: String(site.id) })).map((r) => r.user.email)).toEqual([account.ownerEmail]);
    });
  },
  { migrated: true },
);

describeOnServer('users and ownership under concurrency [postgres]', () => {
  const server = migratedServerPool(12);

  it('concurrent user add for the last seats: max_users holds', async () => {
    const account = await newAccount(server.db.knex, 'growth'); // 3 users: 2 seats left
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => addUser(server.db.knex, { account: account.slug, email: uniqueEmail('seat'), role: 'viewer' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(r.reason.message).toMatch(/user limit reached/);
    }
    const [{ count }] = await server.db.knex('igny8_users').where('account_id', account.id).count({ count: '*' });
    expect(Number(count)).toBe(3);
  });

  it('concurrent transfers to different members: exactly one owner at every step and after', async () => {
    const account = await newAccount(server.db.knex, 'scale'); // 5 users
    const members = [];
    for (let i = 0; i < 4; i++) members.push(await addUser(server.db.knex, { account: account.slug, email: uniqueEmail('heir'), role: 'admin' }));
    const results = await Promise.allSettled(
      [...members, ...members].map((m) => transferOwnership(server.db.knex, { account: account.slug, to: m.user.email })),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const after = await owners(server.db.knex, account.id);
    expect(after).toHaveLength(1);
    const roles = await server.db.knex('igny8_users').where('account_id', account.id).select('role');
    expect(roles.filter((r) => r.role === 'owner')).toHaveLength(1);
    expect(roles.filter((r) => r.role === 'admin')).toHaveLength(4);
  });

  it('a transfer racing the deactivation of its heir: never an inactive owner, never no owner', async () => {
    for (let round = 0; round < 5; round++) {
      const account = await newAccount(server.db.knex, 'growth');
      const heir = await addUser(server.db.knex, { account: account.slug, email: uniqueEmail('race'), role: 'admin' });
      await Promise.allSettled([
        transferOwnership(server.db.knex, { account: account.slug, to: heir.user.email }),
        deactivateUser(server.db.knex, { email: heir.user.email }),
      ]);
      const rows = await server.db.knex('igny8_users').where({ account_id: account.id, role: 'owner' }).select('is_active');
      expect(rows).toEqual([{ is_active: true }]);
    }
  });

  it('a revoke racing a transfer to the same member: the new owner always keeps access to every site', async () => {
    for (let round = 0; round < 5; round++) {
      const account = await newAccount(server.db.knex, 'growth');
      const site = await createSite(server.db.knex, { account: account.slug, name: 'Race', domain: 'race.example.com', industry: 'technology' });
      const heir = await addUser(server.db.knex, { account: account.slug, email: uniqueEmail('heir'), role: 'editor' });
      await grantSiteAccess(server.db.knex, { site: String(site.id), email: heir.user.email });
      const results = await Promise.allSettled([
        revokeSiteAccess(server.db.knex, { site: String(site.id), email: heir.user.email }),
        transferOwnership(server.db.knex, { account: account.slug, to: heir.user.email }),
      ]);
      expect(results[1].status).toBe('fulfilled');
      expect(await owners(server.db.knex, account.id)).toEqual([heir.user.email]);
      expect(await server.db.knex('igny8_site_user_access').where({ site_id: site.id, user_id: heir.user.id })).toHaveLength(1);
    }
  });
});
