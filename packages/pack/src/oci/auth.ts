/** Credentials and `WWW-Authenticate` challenges. Nothing here logs or formats a secret into a message. */

/** Credentials for a registry. A `token` is sent as `Authorization: Bearer <token>` as it is. */
export interface OciCredentials {
  username?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

/**
 * The credentials to use: explicit options win; otherwise `GREENTIC_OCI_USERNAME` + `GREENTIC_OCI_PASSWORD`
 * and `GREENTIC_OCI_TOKEN` from `env`. Empty strings count as unset.
 */
export function resolveCredentials(
  options: OciCredentials,
  env: Record<string, string | undefined>,
): OciCredentials {
  const pick = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const explicit = pick(options.username) !== undefined || pick(options.token) !== undefined;
  if (explicit) {
    return { username: pick(options.username), password: options.password ?? '', token: pick(options.token) };
  }
  const username = pick(env.GREENTIC_OCI_USERNAME);
  return {
    username,
    password: username === undefined ? undefined : (env.GREENTIC_OCI_PASSWORD ?? ''),
    token: pick(env.GREENTIC_OCI_TOKEN),
  };
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export interface AuthChallenge {
  /** Lower-cased scheme: `basic`, `bearer`, … */
  scheme: string;
  /** Parameters with lower-cased names (`realm`, `service`, `scope`, `error`). */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` value into its challenges (RFC 9110 §11.6.1 syntax: `scheme k=v, k="quoted, v"`).
 * Several challenges joined by commas (as `Headers.get` joins repeated headers) are split on their scheme tokens.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: AuthChallenge | undefined;
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    const token = readToken();
    if (token === '') {
      i++; // skip a character we do not understand
      continue;
    }
    let j = i;
    while (j < n && (header[j] === ' ' || header[j] === '\t')) j++;
    if (header[j] === '=' && current) {
      // token68 values (`Basic abc==`) are not used by registries; we treat `k=v` as a parameter.
      i = j + 1;
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
        value = header.slice(start, i);
      }
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}
