// Secrets (connection passwords, user passwords, app passwords, API keys) never reach output.
// Every line the CLI prints passes through scrubSecrets(), which works in two lines of defence:
//
// 1. By structure: the password of any connection string in the text (URL userinfo,
//    `?password=`, `password=` in a key=value string) is replaced, whatever its characters.
//    Nothing else in the text is touched.
// 2. By value: secrets registered during the run are replaced where they stand as a whole
//    token, for the places a value can surface unannounced (a database error echoing a
//    failing row). A secret that is a plain word, or that equals the user, host or database it
//    came with, is not registered: masking it would mask ordinary text.

const registered = new Set<string>();

/** Characters that continue a token: a secret inside a longer word is not that secret. */
const WORD = String.raw`[\p{L}\p{N}_]`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Remember a secret so that no output line can carry it, even inside a driver's error.
 * `identities` are texts printed as themselves (the user, host and database beside a password).
 */
export function registerSecret(secret: string | undefined | null, identities: ReadonlyArray<string | undefined> = []): void {
  if (!secret || secret.length < 6) return;
  if (/^\p{L}+$/u.test(secret)) return; // a plain word: indistinguishable from ordinary text
  if (identities.includes(secret)) return;
  registered.add(secret);
}

const URL_TOKEN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>()]+/gi;
const KEY_VALUE_PASSWORD = /(?<![\p{L}\p{N}_])((?:PG)?password\s*=\s*)('(?:\\.|[^'\\])*'?|[^\s'"&]+)/giu;

/** A URL's password (userinfo or ?password=) replaced by `***`, whatever characters it holds. */
function redactUrlToken(token: string): string {
  const schemeEnd = token.indexOf('://') + 3;
  const queryAt = token.indexOf('?', schemeEnd);
  const authorityAndPath = queryAt >= 0 ? token.slice(schemeEnd, queryAt) : token.slice(schemeEnd);
  let out = token.slice(0, schemeEnd);
  const at = authorityAndPath.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authorityAndPath.slice(0, at);
    const colon = userinfo.indexOf(':');
    out += colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo;
    out += authorityAndPath.slice(at);
  } else {
    out += authorityAndPath;
  }
  if (queryAt >= 0) {
    out += token.slice(queryAt).replace(/([?&](?:password|sslpassword)=)[^&#]*/gi, '$1***');
  }
  return out;
}

/** Every connection-string password in `text` replaced by `***`; nothing else changes. */
export function redactConnectionStrings(text: string): string {
  return text.replace(URL_TOKEN, redactUrlToken).replace(KEY_VALUE_PASSWORD, '$1***');
}

/** Both lines of defence: connection-string passwords by structure, registered secrets as whole tokens. */
export function scrubSecrets(text: string): string {
  let out = redactConnectionStrings(text);
  for (const secret of registered) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      if (!out.includes(form)) continue;
      out = out.replace(new RegExp(`(?<!${WORD})${escapeRegExp(form)}(?!${WORD})`, 'gu'), '***');
    }
  }
  return out;
}
