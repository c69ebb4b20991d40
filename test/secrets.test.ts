// Redaction by structure: the password of any connection string is removed, whatever its
// characters, and nothing else is touched; known secrets are masked only as whole tokens.
import { describe, expect, it } from 'vitest';
import { redactConnectionStrings, registerSecret, scrubSecrets } from '../src/secrets.js';
import { registerTestSecret, runCli } from './helpers/cli.js';

describe('connection-string passwords, by structure', () => {
  it.each([
    ['postgres://ops:S3cret-1@db:5432/x', 'postgres://ops:***@db:5432/x'],
    ['postgresql://ops:pa/ssWORD9@127.0.0.1:5499/x', 'postgresql://ops:***@127.0.0.1:5499/x'],
    ['postgresql://ops:p@ss@w0rd@db/x', 'postgresql://ops:***@db/x'],
    ['postgresql://ops:%2Fenc%40ded@db/x', 'postgresql://ops:***@db/x'],
    ['postgresql://ops:@db/x', 'postgresql://ops:***@db/x'],
    ['postgresql://127.0.0.1:5499/x?password=QueryPW123', 'postgresql://127.0.0.1:5499/x?password=***'],
    ['postgresql://db/x?sslmode=require&password=Qp-2&application_name=a', 'postgresql://db/x?sslmode=require&password=***&application_name=a'],
    ['postgres://ops@db/x', 'postgres://ops@db/x'],
    ['host=127.0.0.1 port=5499 password=KvPW12345 dbname=x', 'host=127.0.0.1 port=5499 password=*** dbname=x'],
    ["host=h password='with space-3' dbname=x", 'host=h password=*** dbname=x'],
    ["host=h password = 'it\\'s-4' user=u", 'host=h password = *** user=u'],
    ['PGPASSWORD=Env-Pw-5 igny8 audit', 'PGPASSWORD=*** igny8 audit'],
    ['error at postgres://u:Pw-6@h/d: refused', 'error at postgres://u:***@h/d: refused'],
    ['"postgres://u:Pw-7@h/d"', '"postgres://u:***@h/d"'],
  ])('%s', (text, expected) => {
    expect(redactConnectionStrings(text)).toBe(expected);
  });

  it.each([
    '--password: is a well-known password',
    'the password must be 8 to 256 characters',
    'user postgres on host postgres, database postgres',
    'a URL without one: https://example.com/path?q=1',
    'passwords are hashed with scrypt',
  ])('leaves ordinary text alone: %s', (text) => {
    expect(scrubSecrets(text)).toBe(text);
  });
});

describe('known secrets, as whole tokens', () => {
  it('masks a registered secret where it stands alone or inside punctuation, never inside a word', () => {
    registerSecret('Tok-9f3a-Zz');
    expect(scrubSecrets('detail: Key (api_key)=(Tok-9f3a-Zz) already exists')).toBe('detail: Key (api_key)=(***) already exists');
    expect(scrubSecrets('xTok-9f3a-Zzy stays')).toBe('xTok-9f3a-Zzy stays');
  });

  it('never registers a plain word or the user, host or database it came with', () => {
    registerSecret('password');
    registerSecret('postgres', ['postgres', 'db', 'app']);
    registerSecret('Appdb-77', ['u', 'h', 'Appdb-77']);
    expect(scrubSecrets('--password: is a well-known password')).toBe('--password: is a well-known password');
    expect(scrubSecrets('connected to Appdb-77 as postgres')).toBe('connected to Appdb-77 as postgres');
  });
});

describe('no connection form prints its password on a connection error', () => {
  const forms = [
    ['postgresql://127.0.0.1:5499/x?password=QueryPW123', 'QueryPW123', 4],
    ['postgresql://postgres:pa/ssWORD9@127.0.0.1:5499/x', 'pa/ssWORD9', 2],
    ['host=127.0.0.1 port=5499 password=KvPW12345 dbname=x', 'KvPW12345', 4],
    ['postgresql://ops:Url-Pw-Z9@127.0.0.1:5499/x', 'Url-Pw-Z9', 4],
  ] as const;
  it.each(forms)('%s', async (url, password, code) => {
    registerTestSecret(password); // runCli fails the test if any output carries it
    registerTestSecret(password.split('/')[1] ?? password);
    const result = await runCli(['audit', '-d', url]);
    expect(result.code).toBe(code);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a URL whose password is "postgres" keeps its user and host readable', async () => {
    const result = await runCli(['audit', '-d', 'postgresql://postgres:postgres@127.0.0.1:5499/x']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('cannot connect to x on 127.0.0.1:5499 as postgres');
  });
});
