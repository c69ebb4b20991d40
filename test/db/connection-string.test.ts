// Choosing and completing a connection as psql does (libpq's documented behaviour): which
// source wins, URL and key=value forms, the PG* variables, the service and password files,
// the defaults, and errors that never echo any part of the string.
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  completeServerTarget,
  parseConnectionString,
  resolveDatabaseTarget,
  type ServerTarget,
} from '../../src/db/connection-string.js';
import { ValidationError } from '../../src/errors.js';

const home = mkdtempSync(path.join(tmpdir(), 'igny8-home-'));
const NO_SOCKETS: string[] = [];

function resolve(flag: string | undefined, env: NodeJS.ProcessEnv = {}): ReturnType<typeof resolveDatabaseTarget> {
  return resolveDatabaseTarget({ flag, env, home, socketDirs: NO_SOCKETS });
}

function server(flag: string | undefined, env: NodeJS.ProcessEnv = {}): ServerTarget {
  const target = resolve(flag, env);
  if (target.kind !== 'server') throw new Error('expected a server');
  return target;
}

describe('which database', () => {
  it('--database-url wins over DATABASE_URL, which wins over PGHOST, which wins over the embedded database', () => {
    const env = { DATABASE_URL: 'postgres://a@envhost/envdb', PGHOST: 'pghost', PGDATABASE: 'pgdb' };
    expect(server('postgres://f@flaghost/flagdb', env)).toMatchObject({ source: '--database-url', host: 'flaghost', database: 'flagdb' });
    expect(server(undefined, env)).toMatchObject({ source: 'DATABASE_URL', host: 'envhost', database: 'envdb' });
    expect(server(undefined, { PGHOST: 'pghost', PGDATABASE: 'pgdb' })).toMatchObject({ source: 'environment', host: 'pghost', database: 'pgdb' });
    expect(resolve(undefined, {})).toEqual({ kind: 'embedded' });
  });

  it.each(['PGHOST', 'PGHOSTADDR', 'PGDATABASE'])('%s alone names a server', (variable) => {
    expect(resolve(undefined, { [variable]: variable === 'PGHOSTADDR' ? '10.0.0.1' : 'x' }).kind).toBe('server');
  });

  it.each(['PGSSLMODE', 'PGAPPNAME', 'PGUSER', 'PGPORT', 'PGPASSWORD'])('%s alone keeps the embedded database', (variable) => {
    expect(resolve(undefined, { [variable]: 'require' })).toEqual({ kind: 'embedded' });
  });

  it('an empty --database-url or DATABASE_URL is bad input, never the embedded database', () => {
    expect(() => resolve('')).toThrow(ValidationError);
    expect(() => resolve('  ')).toThrow(/--database-url: is empty/);
    expect(() => resolve(undefined, { DATABASE_URL: '' })).toThrow(/DATABASE_URL: is set but empty/);
  });
});

describe('connection strings', () => {
  it('reads every part of a URL, percent-decoded, with keywords in the query', () => {
    expect(parseConnectionString('postgresql://us%40er:p%2Fw%3A@db.example.com:6432/my%20db?sslmode=verify-full&application_name=ci')).toEqual({
      user: 'us@er',
      password: 'p/w:',
      host: 'db.example.com',
      port: '6432',
      dbname: 'my db',
      sslmode: 'verify-full',
      application_name: 'ci',
    });
  });

  it('reads IPv6 hosts, socket directories and ?host=', () => {
    expect(parseConnectionString('postgres://[::1]:5433/x')).toMatchObject({ host: '::1', port: '5433', dbname: 'x' });
    expect(parseConnectionString('postgresql://%2Fvar%2Frun%2Fpostgresql/x')).toMatchObject({ host: '/var/run/postgresql' });
    expect(parseConnectionString('postgresql:///x?host=/tmp&port=5499')).toMatchObject({ host: '/tmp', port: '5499', dbname: 'x' });
  });

  it('reads key=value strings with quoting and escapes, as libpq does', () => {
    expect(parseConnectionString(`host=db1 port = 5433 dbname='my db' user=ops password='it\\'s a\\\\b' sslmode=require`)).toEqual({
      host: 'db1',
      port: '5433',
      dbname: 'my db',
      user: 'ops',
      password: "it's a\\b",
      sslmode: 'require',
    });
  });

  it.each([
    ['postgresql://postgres:pa/ssWORD9@127.0.0.1:5499/x', 'pa/ssWORD9', /port is not a number; percent-encode/],
    ['host=x bogus=Secret-Val-9', 'Secret-Val-9', /"bogus" is not a connection option/],
    ["host=x password='Unterminated-Pw-1", 'Unterminated-Pw-1', /unterminated quoted string/],
    ['postgresql://u:Pw-Bad%zz@h/x', 'Pw-Bad', /not valid percent-encoding/],
    ['postgresql://a:b@h1,h2/x', 'b@h1', /several hosts/],
  ])('refuses %s naming the problem and never any part of it', (text, secret, message) => {
    let error: unknown;
    try {
      parseConnectionString(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(secret);
  });
});

describe('completing a connection as libpq does', () => {
  it('fills what the string leaves out from the PG* variables, and the string wins', () => {
    const target = server('postgres://given@h/db', {
      PGUSER: 'envuser',
      PGPORT: '6543',
      PGPASSWORD: 'Env-Pass-1',
      PGSSLMODE: 'require',
      PGAPPNAME: 'nightly-audit',
      PGCONNECT_TIMEOUT: '7',
    });
    expect(target).toMatchObject({
      user: 'given',
      port: 6543,
      password: 'Env-Pass-1',
      sslmode: 'require',
      applicationName: 'nightly-audit',
      connectTimeoutSeconds: 7,
    });
  });

  it('defaults: port 5432, database named after the user, sslmode prefer, application igny8', () => {
    expect(server('host=h user=alice')).toMatchObject({ port: 5432, database: 'alice', sslmode: 'prefer', applicationName: 'igny8' });
  });

  it('without a host: a socket directory holding the server socket, else localhost', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'igny8-sock-'));
    writeFileSync(path.join(dir, '.s.PGSQL.5432'), '');
    expect(completeServerTarget({ dbname: 'x' }, 'environment', { env: {}, home, socketDirs: [dir] })).toMatchObject({ host: dir, socket: true });
    expect(completeServerTarget({ dbname: 'x' }, 'environment', { env: {}, home, socketDirs: [] })).toMatchObject({ host: 'localhost', socket: false });
  });

  it('reads the password file: first matching line, wildcards, escaped colons; localhost for sockets', () => {
    const file = path.join(home, 'pgpass-a');
    writeFileSync(
      file,
      ['# comment', 'other:5432:*:ops:Wrong-1', 'db.example.com:5432:*:ops:Right\\:One-2', '*:*:*:ops:Fallback-3', 'localhost:5432:x:sock:Socket-4'].join('\n'),
    );
    chmodSync(file, 0o600);
    const env = { PGPASSFILE: file };
    expect(server('host=db.example.com user=ops dbname=x', env).password).toBe('Right:One-2');
    expect(server('host=elsewhere user=ops dbname=x', env).password).toBe('Fallback-3');
    expect(server('host=/var/run/postgresql user=sock dbname=x', env).password).toBe('Socket-4');
    expect(server('host=db.example.com user=ops password=Given-5 dbname=x', env).password).toBe('Given-5');
  });

  it('ignores a password file others can read, and says so', () => {
    const file = path.join(home, 'pgpass-open');
    writeFileSync(file, '*:*:*:*:Loose-6\n');
    chmodSync(file, 0o644);
    const target = server('host=h user=u', { PGPASSFILE: file });
    expect(target.password).toBeUndefined();
    expect(target.warnings).toEqual([expect.stringMatching(/has group or world access.*it is ignored/)]);
  });

  it('reads ~/.pgpass when PGPASSFILE is not set', () => {
    const own = mkdtempSync(path.join(tmpdir(), 'igny8-home-'));
    writeFileSync(path.join(own, '.pgpass'), 'h:5432:*:u:Home-File-7\n', { mode: 0o600 });
    const target = resolveDatabaseTarget({ flag: 'host=h user=u', env: {}, home: own, socketDirs: NO_SOCKETS });
    expect(target).toMatchObject({ password: 'Home-File-7' });
  });

  it('a service (PGSERVICE or service=) supplies what the string lacks, before the PG* variables', () => {
    const file = path.join(home, 'services.conf');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '[other]\nhost=wrong\n[prod]\nhost=svc-host\nport=6000\ndbname=svcdb\nuser=svcuser\n');
    expect(server(undefined, { PGSERVICE: 'prod', PGSERVICEFILE: file, PGPORT: '7000' })).toMatchObject({
      host: 'svc-host',
      port: 6000,
      database: 'svcdb',
      user: 'svcuser',
    });
    expect(server('service=prod dbname=mine', { PGSERVICEFILE: file })).toMatchObject({ host: 'svc-host', database: 'mine' });
    expect(() => server(undefined, { PGSERVICE: 'nope', PGSERVICEFILE: file })).toThrow(/no service "nope"/);
  });

  it('refuses an sslmode libpq does not know, and a port that is not one', () => {
    expect(() => server('host=h sslmode=sometimes')).toThrow(/sslmode: must be one of disable, allow, prefer, require, verify-ca, verify-full/);
    expect(() => server('host=h port=70000')).toThrow(/port: must be a number from 1 to 65535/);
  });
});
