import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { MessagingError } from '../errors.js';

/** Direct Line's token lifetime when nothing else is configured (seconds). */
export const DEFAULT_TOKEN_TTL_SEC = 1800;
export const MIN_TOKEN_TTL_SEC = 60;
export const MAX_TOKEN_TTL_SEC = 604_800;
/** The environment variable upstream Greentic reads the token lifetime from. */
export const TOKEN_TTL_ENV = 'GREENTIC_DIRECTLINE_TOKEN_TTL_SECS';
/** How long a WebSocket `streamUrl` may be used to connect (seconds). */
export const STREAM_TOKEN_TTL_SEC = 120;

const ISSUER = 'greentic-directline';

/**
 * The token lifetime: the explicit option, else `GREENTIC_DIRECTLINE_TOKEN_TTL_SECS`, else 1800 s. Either must be an
 * integer from 60 to 604 800 (one week); anything else is `GT_MSG_WEBCHAT_BAD_OPTIONS`.
 */
export function resolveTokenTtlSec(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TOKEN_TTL_ENV];
  const from =
    option !== undefined ? 'tokenTtlSec' : raw !== undefined && raw !== '' ? TOKEN_TTL_ENV : undefined;
  if (from === undefined) return DEFAULT_TOKEN_TTL_SEC;
  const value = option ?? Number(raw);
  if (!Number.isInteger(value) || value < MIN_TOKEN_TTL_SEC || value > MAX_TOKEN_TTL_SEC) {
    throw new MessagingError(
      'GT_MSG_WEBCHAT_BAD_OPTIONS',
      `${from} must be a whole number of seconds from ${MIN_TOKEN_TTL_SEC} to ${MAX_TOKEN_TTL_SEC} (got ${JSON.stringify(option ?? raw)})`,
    );
  }
  return value;
}

/** What a verified token says. */
export interface TokenClaims {
  kind: 'conversation' | 'stream';
  conversationId: string;
  /** The user the token is bound to (activities posted with it are from this user). */
  userId?: string;
  /** Epoch seconds. */
  expiresAt: number;
  /** For stream tokens: when the conversation token that asked for the stream expires (epoch seconds). */
  conversationExpiresAt?: number;
}

export interface DirectLineTokensOptions {
  /** HS256 key, at least 32 bytes. Default: 32 random bytes (tokens then die with the process). */
  signingKey?: string | Uint8Array;
  /** Default 1800 s (see {@link resolveTokenTtlSec}). */
  ttlSec?: number;
  /** Tokens are only accepted by endpoints with the same audience (the tenant binding). */
  audience: string;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

export interface MintedToken {
  token: string;
  conversationId: string;
  /** Seconds until the token expires. */
  expiresIn: number;
  /** Epoch seconds. */
  expiresAt: number;
}

/** Mints and verifies Direct Line tokens: HS256 JWTs, each scoped to one conversation, with an expiry. */
export class DirectLineTokens {
  readonly ttlSec: number;
  private readonly key: Uint8Array;
  private readonly audience: string;
  private readonly now: () => number;

  constructor(options: DirectLineTokensOptions) {
    this.ttlSec = resolveTokenTtlSec(options.ttlSec);
    const key = options.signingKey;
    this.key =
      key === undefined
        ? new Uint8Array(randomBytes(32))
        : typeof key === 'string'
          ? new TextEncoder().encode(key)
          : new Uint8Array(key);
    if (this.key.byteLength < 32) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_OPTIONS',
        `signingKey has ${this.key.byteLength} bytes; an HS256 key needs at least 32 (e.g. 32 random bytes, base64)`,
      );
    }
    this.audience = options.audience;
    this.now = options.now ?? Date.now;
  }

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  /** A conversation token valid for `ttlSec` from now (a refresh mints a new one: the window slides). */
  async mint(conversationId: string, options: { userId?: string } = {}): Promise<MintedToken> {
    const iat = this.nowSec();
    const exp = iat + this.ttlSec;
    const claims: Record<string, unknown> = { conv: conversationId, kind: 'conversation' };
    // DirectLineJS reads the bound user from the `user` claim.
    if (options.userId !== undefined) claims.user = options.userId;
    const token = await this.sign(claims, iat, exp);
    return { token, conversationId, expiresIn: exp - iat, expiresAt: exp };
  }

  /** A short-lived token for a WebSocket `streamUrl` (URLs end up in logs: the conversation token stays out of them). */
  async mintStream(conversationId: string, conversationExpiresAt?: number): Promise<string> {
    const iat = this.nowSec();
    const claims: Record<string, unknown> = { conv: conversationId, kind: 'stream' };
    if (conversationExpiresAt !== undefined) claims.cexp = conversationExpiresAt;
    return this.sign(claims, iat, iat + STREAM_TOKEN_TTL_SEC);
  }

  /** Verifies a token of the given kind; throws `GT_MSG_WEBCHAT_TOKEN_EXPIRED` or `GT_MSG_WEBCHAT_TOKEN_INVALID`. */
  async verify(token: string, kind: TokenClaims['kind']): Promise<TokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: this.audience,
        currentDate: new Date(this.now()),
        clockTolerance: 0,
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw new MessagingError('GT_MSG_WEBCHAT_TOKEN_EXPIRED', 'the token has expired: get a new token', {
          cause: e,
        });
      }
      throw new MessagingError(
        'GT_MSG_WEBCHAT_TOKEN_INVALID',
        'the bearer value is neither a secret of this endpoint nor a token it issued',
        { cause: e },
      );
    }
    if (payload.kind !== kind || typeof payload.conv !== 'string' || typeof payload.exp !== 'number') {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_TOKEN_INVALID',
        `the token is not a ${kind} token of this endpoint`,
      );
    }
    const claims: TokenClaims = { kind, conversationId: payload.conv, expiresAt: payload.exp };
    if (typeof payload.user === 'string') claims.userId = payload.user;
    if (typeof payload.cexp === 'number') claims.conversationExpiresAt = payload.cexp;
    return claims;
  }

  private sign(claims: Record<string, unknown>, iat: number, exp: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(this.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.key);
  }
}
