import {
  formatSecretUri,
  type SecretsProvider,
  SecretValue,
  secretUri,
  TEAM_PLACEHOLDER,
} from '@greentic/secrets';
import type { ReplyScope } from '@greentic/types';
import { OAuthError } from './errors.js';

/** The tenant scope a consent (and the tokens it yields) belongs to. */
export interface OAuthScope {
  env: string;
  tenant: string;
  team?: string;
  user?: string;
}

/**
 * A consent that was started and not yet completed: what the callback needs to finish it. Kept server side
 * (the PKCE verifier and the OpenID nonce never travel through the browser).
 */
export interface PendingConsent {
  /** Random id; the `jti` of the signed state. */
  id: string;
  provider: string;
  scopes: string[];
  redirect_uri: string;
  /** PKCE code verifier (secret until the code is exchanged). */
  code_verifier: string;
  /** OpenID Connect nonce, when an ID token is expected. */
  nonce?: string;
  scope: OAuthScope;
  /** The conversation to resume when the consent completes. */
  reply_scope?: ReplyScope;
  channel?: string;
  session_id?: string;
  flow_id?: string;
  node_id?: string;
  /** ms since epoch. */
  created_at: number;
  /** ms since epoch; the state stops working then. */
  expires_at: number;
}

/** What {@link ConsentStore.claim} found. */
export type ConsentClaim =
  | { status: 'claimed'; consent: PendingConsent }
  | { status: 'used' }
  | { status: 'unknown' };

/**
 * Where started consents wait for their callback. `claim` is the single-use gate: for one id, exactly one call
 * gets `claimed`; later ones get `used` (until the consent's expiry) — so a replayed callback is rejected.
 * A deployment with several broker processes needs a shared store (e.g. {@link SecretsConsentStore} over a shared
 * secrets backend, or one over Redis).
 */
export interface ConsentStore {
  save(consent: PendingConsent): Promise<void>;
  claim(id: string, scope: Pick<OAuthScope, 'env' | 'tenant'>, now: number): Promise<ConsentClaim>;
}

type MemoryEntry = { consent: PendingConsent; used: false } | { used: true; expires_at: number };

/** Consents in process memory; expired entries are swept as new ones arrive. */
export class MemoryConsentStore implements ConsentStore {
  readonly #entries = new Map<string, MemoryEntry>();
  #lastSweep = 0;

  async save(consent: PendingConsent): Promise<void> {
    this.#sweep(consent.created_at);
    this.#entries.set(consent.id, { consent: structuredClone(consent), used: false });
  }

  async claim(id: string, scope: Pick<OAuthScope, 'env' | 'tenant'>, now: number): Promise<ConsentClaim> {
    const e = this.#entries.get(id);
    if (!e) return { status: 'unknown' };
    if (e.used) return now <= e.expires_at ? { status: 'used' } : { status: 'unknown' };
    if (e.consent.scope.env !== scope.env || e.consent.scope.tenant !== scope.tenant)
      return { status: 'unknown' };
    // mark first, synchronously: a concurrent claim for the same id sees `used`
    this.#entries.set(id, { used: true, expires_at: e.consent.expires_at });
    return { status: 'claimed', consent: e.consent };
  }

  /** Number of entries (pending and used markers) currently held. */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number) {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [id, e] of this.#entries) {
      const exp = e.used ? e.expires_at : e.consent.expires_at;
      if (exp < now) this.#entries.delete(id);
    }
  }
}

/** Category of consent records in the secrets store. */
export const CONSENT_CATEGORY = 'oauth-consent';

/**
 * Consents kept in a {@link SecretsProvider} (`secrets://<env>/<tenant>/_/oauth-consent/<id>`), so every broker
 * process that shares the store can finish a consent another one started. A claimed consent leaves a marker until
 * it would have expired; call {@link sweep} now and then to remove expired records.
 */
export class SecretsConsentStore implements ConsentStore {
  constructor(private readonly secrets: SecretsProvider) {
    if (!secrets.writable) {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        `the consent store needs a writable secrets provider (got "${secrets.name}")`,
      );
    }
  }

  #uri(scope: Pick<OAuthScope, 'env' | 'tenant'>, id: string): string {
    return formatSecretUri(
      secretUri({
        env: scope.env,
        tenant: scope.tenant,
        team: TEAM_PLACEHOLDER,
        category: CONSENT_CATEGORY,
        name: id,
      }),
    );
  }

  async save(consent: PendingConsent): Promise<void> {
    await this.secrets.put(this.#uri(consent.scope, consent.id), SecretValue.json({ pending: consent }));
  }

  async claim(id: string, scope: Pick<OAuthScope, 'env' | 'tenant'>, now: number): Promise<ConsentClaim> {
    const uri = this.#uri(scope, id);
    const rec = await this.secrets.get(uri);
    if (!rec) return { status: 'unknown' };
    const doc = rec.value.revealJson<{ pending?: PendingConsent; used_until?: number }>();
    if (doc.used_until !== undefined)
      return now <= doc.used_until ? { status: 'used' } : { status: 'unknown' };
    if (!doc.pending) return { status: 'unknown' };
    // `delete` reports whether this call removed it: the one that did owns the consent
    if (!(await this.secrets.delete(uri))) return { status: 'used' };
    await this.secrets.put(uri, SecretValue.json({ used_until: doc.pending.expires_at }));
    return { status: 'claimed', consent: doc.pending };
  }

  /** Deletes expired records (pending or used) of one env/tenant, or of all when no filter is given. */
  async sweep(now: number, filter: { env?: string; tenant?: string } = {}): Promise<number> {
    let removed = 0;
    for (const item of await this.secrets.list({ ...filter, category: CONSENT_CATEGORY })) {
      const rec = await this.secrets.get(item.uri);
      if (!rec) continue;
      const doc = rec.value.revealJson<{ pending?: PendingConsent; used_until?: number }>();
      const exp = doc.used_until ?? doc.pending?.expires_at ?? 0;
      if (exp < now && (await this.secrets.delete(item.uri))) removed++;
    }
    return removed;
  }
}
