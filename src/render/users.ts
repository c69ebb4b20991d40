// How the member and ownership commands' results look to a person. --json prints the result
// objects themselves; no password or hash is ever part of them.
import type { AddedUser, ChangedEmail, DeactivatedUser, OwnershipTransfer, UserRef } from '../domain/users.js';
import type { SiteAccessChange, SiteAccessRow } from '../domain/site-access.js';
import { renderTable } from './table.js';
import { plural } from './text.js';

function field(label: string, value: string): string {
  return `  ${label.padEnd(14)}${value}`;
}

function where(user: UserRef): string {
  return user.account ? ` of account "${user.account.slug}"` : '';
}

export function renderAddedUser(result: AddedUser): string[] {
  return [
    `added ${result.user.email} (user ${result.user.id}) to account "${result.account.slug}" as ${result.user.role}`,
    field('users', `${result.users} of ${result.maxUsers === 0 ? 'unlimited' : result.maxUsers}`),
    field('password', result.user.hasPassword ? 'set' : 'none yet: the user sets one in the application'),
  ];
}

export function renderChangedEmail(result: ChangedEmail): string[] {
  if (!result.changed) return [`user ${result.user.id}${where(result.user)} has the email ${result.to} already; nothing changed`];
  return [`changed the email of user ${result.user.id}${where(result.user)}: ${result.from} → ${result.to}`];
}

export function renderDeactivatedUser(result: DeactivatedUser): string[] {
  const at = result.deactivatedAt ? ` (since ${result.deactivatedAt.toISOString().replace('T', ' ').slice(0, 19)})` : '';
  if (!result.changed) return [`${result.user.email} (user ${result.user.id})${where(result.user)} is deactivated already${at}; nothing changed`];
  return [`deactivated ${result.user.email} (user ${result.user.id})${where(result.user)}${at}`];
}

export function renderOwnershipTransfer(result: OwnershipTransfer): string[] {
  if (!result.changed) return [`${result.to.email} owns account "${result.account.slug}" already; nothing changed`];
  return [
    `account "${result.account.slug}" is now owned by ${result.to.email} (user ${result.to.id}, was ${result.to.previousRole})`,
    field('previous', `${result.from.email} (user ${result.from.id}) is now admin`),
    field('site access', result.sitesGranted === 0 ? 'the new owner had access to every site' : `granted on ${plural(result.sitesGranted, 'site')}`),
  ];
}

export function renderSiteAccessChange(result: SiteAccessChange, verb: 'grant' | 'revoke'): string[] {
  const who = `${result.user.email} (${result.user.role})`;
  const site = `site "${result.site.slug}" of account "${result.site.account.slug}"`;
  if (verb === 'grant') {
    return [result.changed ? `granted ${who} access to ${site}` : `${who} has access to ${site} already; nothing changed`];
  }
  return [result.changed ? `revoked the access of ${who} to ${site}` : `${who} had no access to ${site}; nothing changed`];
}

export function renderSiteAccessList(rows: SiteAccessRow[], width: number): string[] {
  if (rows.length === 0) return ['no access rows'];
  return [
    renderTable(
      ['site', 'account', 'user', 'role', 'active', 'granted by', 'granted'],
      rows.map((row) => [
        row.site.slug,
        row.account,
        row.user.email,
        row.user.role,
        row.user.isActive ? 'yes' : 'no',
        row.grantedBy ?? '',
        row.grantedAt instanceof Date ? row.grantedAt.toISOString().slice(0, 10) : String(row.grantedAt).slice(0, 10),
      ]),
      { width },
    ),
  ];
}
