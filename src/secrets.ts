// Secrets (URL passwords, user passwords, app passwords, API keys) never reach output.
// Two defences: values are masked where they are rendered, and every line the CLI prints
// passes through scrubSecrets(), which removes any secret registered during the run.

const registered = new Set<string>();

/** Remember a secret so that no output line can carry it, even inside a driver's error. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 3) registered.add(secret);
}

/** Replaces every registered secret, and any password inside a URL, with `***`. */
export function scrubSecrets(text: string): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s/]+)@/gi, '$1***@');
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join('***');
  }
  return out;
}

/** A database URL fit for printing: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return scrubSecrets(url);
  }
}

/** Shows that a secret is present without showing it. */
export function maskSecret(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value === '' ? '' : '***';
}
