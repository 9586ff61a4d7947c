import { createHash, hkdfSync } from 'node:crypto';
import { SecretValue } from '@greentic/secrets';
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { OAuthError } from './errors.js';

/** Key material for signing state and handles: at least 32 bytes (text is read as UTF-8). */
export type SigningKeyInput = SecretValue | Uint8Array | string;

/** The shortest signing key accepted, in bytes. */
export const MIN_SIGNING_KEY_BYTES = 32;

interface DerivedKey {
  kid: string;
  key: Uint8Array;
}

/**
 * HMAC keys for one purpose (`state` or `handle`), derived with HKDF-SHA256 from the broker's signing keys so a
 * state can never pass as a handle (or the reverse) even before the `typ` check. The first key signs; every key
 * verifies (rotation: put the new key first, keep the old one until its tokens have expired).
 */
export class PurposeKeys {
  readonly #keys: DerivedKey[];

  constructor(input: SigningKeyInput | readonly SigningKeyInput[], purpose: string) {
    const list = Array.isArray(input) ? input : [input as SigningKeyInput];
    if (list.length === 0) {
      throw new OAuthError('GT_OAUTH_CONFIG', 'the OAuth broker needs a signing key (signingKey)');
    }
    this.#keys = list.map((k, i) => {
      const bytes = keyBytes(k, i);
      const key = new Uint8Array(
        hkdfSync('sha256', bytes, 'greentic-oauth', `greentic-oauth/${purpose}/v1`, 32),
      );
      const kid = createHash('sha256').update(key).digest('base64url').slice(0, 16);
      return { kid, key };
    });
  }

  async sign(claims: JWTPayload, typ: string, times: { iat: number; exp: number }): Promise<string> {
    const k = this.#keys[0]!;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ, kid: k.kid })
      .setIssuedAt(Math.floor(times.iat / 1000))
      .setExpirationTime(Math.floor(times.exp / 1000))
      .sign(k.key);
  }

  /**
   * Verifies signature, `typ` and expiry. Throws `expired` / `invalid` codes chosen by the caller; never echoes the
   * token.
   */
  async verify(
    token: unknown,
    typ: string,
    now: number,
    codes: {
      invalid: 'GT_OAUTH_STATE_INVALID' | 'GT_OAUTH_HANDLE_INVALID';
      expired: 'GT_OAUTH_STATE_EXPIRED' | 'GT_OAUTH_HANDLE_EXPIRED';
    },
    what: string,
  ): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw new OAuthError(codes.invalid, `${what} is missing or malformed`);
    }
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new OAuthError(codes.invalid, `${what} is malformed (not a compact JWS)`);
    }
    const k = this.#keys.find((x) => x.kid === kid);
    if (!k) {
      throw new OAuthError(
        codes.invalid,
        `${what} was not signed by this broker (unknown key id); it was tampered with or the signing key changed`,
      );
    }
    try {
      const { payload } = await jwtVerify(token, k.key, {
        algorithms: ['HS256'],
        typ,
        currentDate: new Date(now),
      });
      return payload;
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw new OAuthError(codes.expired, `${what} has expired`);
      }
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new OAuthError(codes.invalid, `${what} failed its signature check: it was tampered with`);
      }
      throw new OAuthError(
        codes.invalid,
        `${what} is not valid (${(e as { code?: string }).code ?? 'error'})`,
      );
    }
  }
}

function keyBytes(k: SigningKeyInput, index: number): Uint8Array {
  let bytes: Uint8Array;
  if (k instanceof SecretValue) bytes = k.reveal();
  else if (k instanceof Uint8Array) bytes = k;
  else if (typeof k === 'string') bytes = new TextEncoder().encode(k);
  else
    throw new OAuthError('GT_OAUTH_CONFIG', `signingKey[${index}] must be a SecretValue, bytes or a string`);
  if (bytes.byteLength < MIN_SIGNING_KEY_BYTES) {
    throw new OAuthError(
      'GT_OAUTH_CONFIG',
      `signingKey[${index}] is ${bytes.byteLength} bytes; use at least ${MIN_SIGNING_KEY_BYTES} random bytes (e.g. \`openssl rand -base64 48\`)`,
    );
  }
  return bytes;
}
