// Which database, as psql would pick it. pg parses URLs its own way (no key=value strings,
// `sslmode=require` verifies the certificate, `prefer` never falls back, the PG* variables are
// only partly read), so this is the glue that gives igny8 libpq's behaviour:
//
//   --database-url / -d (a URL or a key=value string) > DATABASE_URL > a server named by
//   PGHOST, PGHOSTADDR, PGDATABASE or PGSERVICE > the embedded database.
//
// Whatever the chosen string leaves out is filled in as libpq does: the service file, then the
// PG* variables, then the password file, then the defaults. Nothing here ever puts any part of
// a connection string into an error message: a malformed string may hold a password anywhere.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { ValidationError } from '../errors.js';

/** libpq's connection keywords that igny8 understands. */
const KEYWORDS = [
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'application_name',
  'fallback_application_name',
  'connect_timeout',
  'options',
  'service',
] as const;
export type ConnectionKeyword = (typeof KEYWORDS)[number];
export type ConnectionParams = Partial<Record<ConnectionKeyword, string>>;

/** The PG* variables and the keyword each one supplies (libpq's table). */
const ENVIRONMENT: ReadonlyArray<readonly [string, ConnectionKeyword]> = [
  ['PGHOST', 'host'],
  ['PGHOSTADDR', 'hostaddr'],
  ['PGPORT', 'port'],
  ['PGDATABASE', 'dbname'],
  ['PGUSER', 'user'],
  ['PGPASSWORD', 'password'],
  ['PGPASSFILE', 'passfile'],
  ['PGSSLMODE', 'sslmode'],
  ['PGSSLROOTCERT', 'sslrootcert'],
  ['PGSSLCERT', 'sslcert'],
  ['PGSSLKEY', 'sslkey'],
  ['PGAPPNAME', 'application_name'],
  ['PGCONNECT_TIMEOUT', 'connect_timeout'],
  ['PGOPTIONS', 'options'],
];

/** Variables that name a server by themselves; PGSSLMODE, PGAPPNAME and the like never do. */
const SERVER_SELECTING = ['PGHOST', 'PGHOSTADDR', 'PGDATABASE', 'PGSERVICE'] as const;

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** A server connection with every parameter settled. */
export interface ServerTarget {
  kind: 'server';
  /** Where the connection string came from, for messages. */
  source: '--database-url' | 'DATABASE_URL' | 'environment';
  host: string;
  /** True when `host` is a Unix-socket directory. */
  socket: boolean;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  sslmode: SslMode;
  sslrootcert: string | undefined;
  sslcert: string | undefined;
  sslkey: string | undefined;
  applicationName: string;
  connectTimeoutSeconds: number | undefined;
  options: string | undefined;
  /** Things a user should hear about (a password file with loose permissions). */
  warnings: string[];
}

export interface EmbeddedTarget {
  kind: 'embedded';
}

export type DatabaseTarget = ServerTarget | EmbeddedTarget;

export interface ResolveOptions {
  /** The value of --database-url, when given (an empty string is an error, not "absent"). */
  flag?: string;
  env?: NodeJS.ProcessEnv;
  /** Where ~ is (the password and service files); tests point it elsewhere. */
  home?: string;
  /** Socket directories to look in when no host is named (libpq's compiled default). */
  socketDirs?: readonly string[];
}

const DEFAULT_SOCKET_DIRS = ['/var/run/postgresql', '/tmp'];

function invalid(field: string, reason: string): ValidationError {
  return new ValidationError(field, reason);
}

// ---------------------------------------------------------------------------------------------
// Parsing: URL and key=value

const URL_SCHEME = /^postgres(?:ql)?:\/\//i;

export function looksLikeUrl(text: string): boolean {
  return URL_SCHEME.test(text.trim());
}

function decode(component: string, field: string, what: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw invalid(field, `the ${what} in the connection URL is not valid percent-encoding`);
  }
}

function setKeyword(params: ConnectionParams, key: string, value: string, field: string): void {
  if (key === 'ssl') {
    // libpq accepts ssl=true from JDBC-style URLs as sslmode=require.
    if (value === 'true' || value === '1') params.sslmode ??= 'require';
    return;
  }
  if (!(KEYWORDS as readonly string[]).includes(key)) {
    throw invalid(field, `"${key}" is not a connection option igny8 knows (it takes libpq's: ${KEYWORDS.join(', ')})`);
  }
  params[key as ConnectionKeyword] = value;
}

/**
 * postgresql://[user[:password]@][host][:port][/dbname][?keyword=value&...], as libpq reads
 * it: the user part ends at the first '@' before any '/'; a password holding '/', '@', ':',
 * '?' or '#' must be percent-encoded, and an error here says so without echoing anything.
 */
export function parseConnectionUrl(text: string, field = '--database-url'): ConnectionParams {
  const params: ConnectionParams = {};
  let rest = text.trim().replace(URL_SCHEME, '');
  const hint = 'percent-encode any / @ : ? # in the user name or password (e.g. %2F for /)';
  const queryAt = rest.indexOf('?');
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : '';
  if (queryAt >= 0) rest = rest.slice(0, queryAt);
  const slash = rest.indexOf('/');
  const at = rest.indexOf('@');
  if (at >= 0 && (slash < 0 || at < slash)) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) params.user = decode(user, field, 'user name');
    if (colon >= 0) params.password = decode(userinfo.slice(colon + 1), field, 'password');
  }
  const pathAt = rest.indexOf('/');
  const hostport = pathAt >= 0 ? rest.slice(0, pathAt) : rest;
  const database = pathAt >= 0 ? rest.slice(pathAt + 1) : '';
  if (hostport.includes(',')) throw invalid(field, 'several hosts in one connection string are not supported; name one');
  if (hostport) {
    let host = hostport;
    let port: string | undefined;
    if (host.startsWith('[')) {
      const close = host.indexOf(']');
      if (close < 0) throw invalid(field, `the connection URL's IPv6 host has no closing "]"`);
      port = host.slice(close + 1).startsWith(':') ? host.slice(close + 2) : undefined;
      if (host.slice(close + 1) !== '' && port === undefined) throw invalid(field, `the connection URL's host is malformed; ${hint}`);
      host = host.slice(1, close);
    } else if (host.includes(':')) {
      port = host.slice(host.lastIndexOf(':') + 1);
      host = host.slice(0, host.lastIndexOf(':'));
    }
    if (host) params.host = decode(host, field, 'host');
    if (port !== undefined && port !== '') {
      if (!/^\d{1,5}$/.test(port)) throw invalid(field, `the connection URL's port is not a number; ${hint}`);
      params.port = port;
    }
  }
  if (database) {
    if (database.includes('/')) throw invalid(field, `the connection URL's database name holds a "/"; ${hint}`);
    params.dbname = decode(database, field, 'database name');
  }
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(field, 'the connection URL has a parameter without a value');
    setKeyword(params, decode(pair.slice(0, eq), field, 'parameter name'), decode(pair.slice(eq + 1), field, 'parameter'), field);
  }
  return params;
}

/** `host=db1 port=5432 password='it''s' ...`, as libpq reads it (single quotes, backslash escapes). */
export function parseKeyValueString(text: string, field = '--database-url'): ConnectionParams {
  const params: ConnectionParams = {};
  let i = 0;
  const s = text;
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= s.length) break;
    const keyStart = i;
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i]!)) i++;
    const key = s.slice(keyStart, i);
    skipSpace();
    if (s[i] !== '=') throw invalid(field, `"${key}" has no "=value" (expected keyword=value pairs)`);
    i++;
    skipSpace();
    let value = '';
    if (s[i] === "'") {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i]!;
        if (c === '\\' && i + 1 < s.length) {
          value += s[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw invalid(field, `the value of "${key}" has an unterminated quoted string`);
    } else {
      while (i < s.length && !/\s/.test(s[i]!)) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
    }
    setKeyword(params, key, value, field);
  }
  return params;
}

export function parseConnectionString(text: string, field = '--database-url'): ConnectionParams {
  return looksLikeUrl(text) ? parseConnectionUrl(text, field) : parseKeyValueString(text, field);
}

// ---------------------------------------------------------------------------------------------
// The service file and the password file

function parseServiceFile(file: string, service: string): ConnectionParams | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let current: string | undefined;
  let found: ConnectionParams | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = section[1]!.trim();
      if (current === service) found = {};
      continue;
    }
    if (current !== service || !found) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if ((KEYWORDS as readonly string[]).includes(key) && key !== 'service') {
      found[key as ConnectionKeyword] = line.slice(eq + 1).trim();
    }
  }
  return found;
}

function serviceParams(service: string, env: NodeJS.ProcessEnv, home: string): ConnectionParams {
  const files = [
    env.PGSERVICEFILE ?? path.join(home, '.pg_service.conf'),
    path.join(env.PGSYSCONFDIR ?? '/etc/postgresql-common', 'pg_service.conf'),
  ];
  for (const file of files) {
    const found = parseServiceFile(file, service);
    if (found) return found;
  }
  throw invalid('service', `no service "${service}" in ${files.join(' or ')}`);
}

/** Splits one .pgpass line into its five fields (':' and '\' escaped with '\'). */
function passfileFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
    } else if (c === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  fields.push(current);
  return fields;
}

/** The password for this connection from the password file, as libpq looks it up. */
export function passwordFromFile(
  file: string,
  target: { host: string; socket: boolean; port: number; database: string; user: string },
  warnings: string[],
): string | undefined {
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return undefined;
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      warnings.push(`password file ${file} has group or world access; permissions should be u=rw (0600) or less: it is ignored`);
      return undefined;
    }
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A socket connection matches "localhost" in the file, as in libpq.
  const host = target.socket ? 'localhost' : target.host;
  const wanted = [host, String(target.port), target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = passfileFields(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, index) => fields[index] === '*' || fields[index] === value)) return fields[4];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Resolution

/** True when the environment names a server by itself (not PGSSLMODE, PGAPPNAME and such). */
export function environmentNamesServer(env: NodeJS.ProcessEnv): boolean {
  return SERVER_SELECTING.some((name) => (env[name] ?? '') !== '');
}

function defaultHost(port: number, socketDirs: readonly string[]): { host: string; socket: boolean } {
  for (const dir of socketDirs) {
    if (existsSync(path.join(dir, `.s.PGSQL.${port}`))) return { host: dir, socket: true };
  }
  return { host: 'localhost', socket: false };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** Settles every parameter of a server connection from a parsed string and the environment. */
export function completeServerTarget(
  given: ConnectionParams,
  source: ServerTarget['source'],
  options: ResolveOptions = {},
): ServerTarget {
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? homedir();
  const params: ConnectionParams = { ...given };
  const service = params.service ?? (env.PGSERVICE || undefined);
  if (service) {
    for (const [key, value] of Object.entries(serviceParams(service, env, home))) {
      params[key as ConnectionKeyword] ??= value;
    }
  }
  for (const [variable, key] of ENVIRONMENT) {
    const value = env[variable];
    if (value !== undefined && value !== '') params[key] ??= value;
  }
  const portText = params.port ?? '5432';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw invalid('port', 'must be a number from 1 to 65535');
  }
  const port = Number(portText);
  // hostaddr is the address to reach; host (when also given) only names it for TLS and .pgpass.
  const named = params.hostaddr ?? params.host;
  const { host, socket } = named ? { host: named, socket: named.startsWith('/') } : defaultHost(port, options.socketDirs ?? DEFAULT_SOCKET_DIRS);
  const user = params.user ?? osUser();
  const database = params.dbname ?? user;
  const sslmode = (params.sslmode ?? 'prefer') as SslMode;
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw invalid('sslmode', `must be one of ${SSL_MODES.join(', ')}`);
  }
  let connectTimeoutSeconds: number | undefined;
  if (params.connect_timeout !== undefined) {
    if (!/^\d+$/.test(params.connect_timeout)) throw invalid('connect_timeout', 'must be a whole number of seconds');
    connectTimeoutSeconds = Number(params.connect_timeout);
  }
  const warnings: string[] = [];
  let password = params.password;
  if (password === undefined) {
    const passfile = params.passfile ?? path.join(home, '.pgpass');
    password = passwordFromFile(passfile, { host: params.host ?? host, socket, port, database, user }, warnings);
  }
  return {
    kind: 'server',
    source,
    host,
    socket,
    port,
    database,
    user,
    password,
    sslmode,
    sslrootcert: params.sslrootcert,
    sslcert: params.sslcert,
    sslkey: params.sslkey,
    applicationName: params.application_name ?? params.fallback_application_name ?? 'igny8',
    connectTimeoutSeconds,
    options: params.options,
    warnings,
  };
}

/** The first source that applies, fully resolved; the embedded database when none does. */
export function resolveDatabaseTarget(options: ResolveOptions = {}): DatabaseTarget {
  const env = options.env ?? process.env;
  if (options.flag !== undefined) {
    if (options.flag.trim() === '') {
      throw invalid('--database-url', 'is empty; give a URL or key=value string, or leave the option out for the embedded database');
    }
    return completeServerTarget(parseConnectionString(options.flag, '--database-url'), '--database-url', options);
  }
  const url = env.DATABASE_URL;
  if (url !== undefined) {
    if (url.trim() === '') {
      throw invalid('DATABASE_URL', 'is set but empty; unset it for the embedded database, or give it a URL');
    }
    return completeServerTarget(parseConnectionString(url, 'DATABASE_URL'), 'DATABASE_URL', options);
  }
  if (environmentNamesServer(env)) return completeServerTarget({}, 'environment', options);
  return { kind: 'embedded' };
}

/** host:port/database as user, never the password: what a command says it works on. */
export function describeServer(target: Pick<ServerTarget, 'host' | 'port' | 'database' | 'user' | 'socket'>): string {
  const where = target.socket ? `socket ${target.host} port ${target.port}` : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return `${target.database} on ${where} as ${target.user}`;
}
