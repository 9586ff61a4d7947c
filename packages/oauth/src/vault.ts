import { createHash } from 'node:crypto';
import {
  formatSecretUri,
  isSecretsError,
  type SecretsProvider,
  SecretValue,
  secretUri,
} from '@greentic/secrets';
import type { OAuthScope } from './consents.js';
import { OAuthError } from './errors.js';

/** Secrets category of stored tokens. */
export const TOKEN_CATEGORY = 'oauth';

export type OAuthGrant = 'authorization_code' | 'client_credentials';

/** What the broker keeps per connection (as one JSON secret). Never leaves the broker. */
export interface StoredTokens {
  v: 1;
  provider: string;
  subject: string;
  grant: OAuthGrant;
  client_id: string;
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scopes: string[];
  /** ms since epoch; absent when the provider did not say. */
  expires_at?: number;
  obtained_at: number;
}

/** Hex SHA-256 of the subject, first 32 characters (128 bits): the secret name never shows the subject. */
export function subjectHash(subject: string): string {
  return createHash('sha256').update(subject, 'utf8').digest('hex').slice(0, 32);
}

/** `secrets://<env>/<tenant>/<team|_>/oauth/<provider>-<subject hash>`. */
export function tokenSecretUri(
  scope: Pick<OAuthScope, 'env' | 'tenant' | 'team'>,
  provider: string,
  subject: string,
): string {
  try {
    return formatSecretUri(
      secretUri({
        env: scope.env,
        tenant: scope.tenant,
        team: scope.team,
        category: TOKEN_CATEGORY,
        name: `${provider}-${subjectHash(subject)}`,
      }),
    );
  } catch (e) {
    throw new OAuthError(
      'GT_OAUTH_INVALID',
      `tokens of tenant "${scope.tenant}" (env "${scope.env}"${scope.team ? `, team "${scope.team}"` : ''}) cannot be stored: ${(e as Error).message}`,
      { provider, cause: e },
    );
  }
}

/** Reads and writes {@link StoredTokens} through a {@link SecretsProvider}; store failures become `GT_OAUTH_SECRETS`. */
export class TokenVault {
  constructor(readonly secrets: SecretsProvider) {
    if (!secrets.writable) {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        `the OAuth broker stores tokens and needs a writable secrets provider (got "${secrets.name}", which is read-only)`,
      );
    }
  }

  async read(uri: string): Promise<StoredTokens | undefined> {
    try {
      const rec = await this.secrets.get(uri);
      if (!rec) return undefined;
      const doc = rec.value.revealJson<StoredTokens>();
      if (doc?.v !== 1 || typeof doc.access_token !== 'string') {
        throw new OAuthError('GT_OAUTH_SECRETS', `the tokens at ${uri} are not in the broker's format`);
      }
      return doc;
    } catch (e) {
      if (e instanceof OAuthError) throw e;
      throw this.#wrap('read', uri, e);
    }
  }

  async write(uri: string, tokens: StoredTokens): Promise<void> {
    try {
      await this.secrets.put(uri, SecretValue.json(tokens));
    } catch (e) {
      throw this.#wrap('write', uri, e);
    }
  }

  async delete(uri: string): Promise<boolean> {
    try {
      return await this.secrets.delete(uri);
    } catch (e) {
      throw this.#wrap('delete', uri, e);
    }
  }

  #wrap(op: string, uri: string, e: unknown): OAuthError {
    const code = isSecretsError(e) ? ` (${e.code})` : '';
    // secrets errors never carry values; keep them as cause
    return new OAuthError('GT_OAUTH_SECRETS', `could not ${op} the tokens at ${uri}${code}`, { cause: e });
  }
}
