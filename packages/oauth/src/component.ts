import type {
  ComponentDescription,
  ComponentInvoker,
  ComponentRef,
  ComponentRegistry,
  InvocationEnvelope,
} from '@greentic/interfaces';
import { type ErrorCode, type Outcome, type ReplyScope, userOf, validateReplyScope } from '@greentic/types';
import type { OAuthBroker, StartConsentRequest } from './broker.js';
import { isOAuthError, type OAuthErrorCode } from './errors.js';
import { isRecord } from './http.js';
import { OAUTH_CONSENT_ACTION, OAUTH_METADATA } from './resume.js';

/** The payload of an `oauth` flow node: `oauth: {provider, scopes?, redirect_uri?, message?, login_hint?}`. */
export interface OAuthNodePayload {
  provider: string;
  scopes?: string[] | string;
  redirect_uri?: string;
  /** Text of the consent prompt (default: "To continue, sign in with <provider>."). */
  message?: string;
  login_hint?: string;
}

/** What the node outputs once consent completed. */
export interface OAuthNodeOutput {
  handle: string;
  provider: string;
  scopes: string[];
  /** ISO expiry of the handle. */
  expires_at: string;
}

/** What a consent-prompt builder gets. */
export interface ConsentPrompt {
  provider: string;
  display_name: string;
  authorize_url: string;
  scopes: string[];
  /** ISO expiry of the link. */
  expires_at: string;
  /** Minutes until the link expires (rounded, at least 1). */
  expires_in_minutes: number;
  /** The node's `message`, if any. */
  message?: string;
  /** True when the user wrote something while the flow waited (the prompt is repeated with a fresh link). */
  reminder: boolean;
}

/**
 * A `Pending` outcome that also carries the reply to show while the conversation waits (`reply`: `{text, card}`).
 * Greentic-TS extension; upstream readers ignore the extra field.
 */
export interface OAuthPendingOutcome {
  Pending: { reason: string; expected_input?: string[]; reply?: unknown };
}

export interface OAuthNodeOptions {
  broker: OAuthBroker;
  /** Component names this registry answers (default `['oauth']`: the `oauth:` node key). */
  components?: readonly string[];
  /** Redirect URI for consents the node starts (default: the broker's first). */
  redirectUri?: string;
  /** The Pending reason (default `oauth consent`). */
  reason?: string;
  /** Builds the reply carrying the consent link (default: text plus an Adaptive Card with a sign-in button). */
  consentMessage?: (prompt: ConsentPrompt) => unknown;
  /** Texts that cancel a waiting sign-in (case-insensitive; default `cancel`). */
  cancelWords?: readonly string[];
  now?: () => number;
}

/** The `expected_input` of the node's Pending outcome. */
export const OAUTH_EXPECTED_INPUT = ['oauth_consent'];

/**
 * A {@link ComponentRegistry} that makes the `oauth` flow node work:
 *
 * ```yaml
 * connect:
 *   oauth: { provider: google, scopes: [openid, email, "https://www.googleapis.com/auth/calendar.readonly"] }
 *   routing: [{ status: error, to: sorry }, { to: next }]
 * ```
 *
 * First call: starts a consent for the caller's tenant and conversation, returns `Pending` (the engine parks the
 * conversation) with a `reply` holding the sign-in link and card. When the consent ends, the runner publishes
 * {@link consentResumeMessage} into the conversation; the resumed node checks the handle it carries and outputs
 * `{handle, provider, scopes, expires_at}` — or an `Error` (`permission_denied` when the user declined).
 * Any other message while waiting repeats the prompt with a fresh link; "cancel" ends it with `permission_denied`.
 */
export class OAuthComponentRegistry implements ComponentRegistry {
  readonly #names: Set<string>;
  readonly #invoker: ComponentInvoker;

  constructor(options: OAuthNodeOptions) {
    this.#names = new Set(options.components ?? ['oauth']);
    this.#invoker = new OAuthNodeInvoker(options, this.#names);
  }

  resolve(ref: ComponentRef): ComponentInvoker | undefined {
    if (ref.kind !== 'builtin' && ref.kind !== 'component') return undefined;
    return this.#names.has(ref.component) ? this.#invoker : undefined;
  }
}

class OAuthNodeInvoker implements ComponentInvoker {
  readonly #cancel: Set<string>;
  readonly #now: () => number;

  constructor(
    private readonly options: OAuthNodeOptions,
    private readonly names: Set<string>,
  ) {
    this.#cancel = new Set((options.cancelWords ?? ['cancel']).map((w) => w.trim().toLowerCase()));
    this.#now = options.now ?? Date.now;
  }

  describe(): ComponentDescription {
    return {
      name: 'oauth',
      version: '0.1.0',
      ops: [
        {
          name: 'oauth',
          description:
            'Asks the user to connect an account (OAuth consent) and outputs a token handle {handle, provider, scopes, expires_at}',
          input_schema: {
            type: 'object',
            required: ['provider'],
            properties: {
              provider: { type: 'string' },
              scopes: { oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }] },
              redirect_uri: { type: 'string' },
              message: { type: 'string' },
              login_hint: { type: 'string' },
            },
          },
          output_schema: {
            type: 'object',
            required: ['handle', 'provider', 'scopes', 'expires_at'],
            properties: {
              handle: { type: 'string' },
              provider: { type: 'string' },
              scopes: { type: 'array', items: { type: 'string' } },
              expires_at: { type: 'string' },
            },
          },
        },
      ],
    };
  }

  async invoke(operation: string, envelope: InvocationEnvelope): Promise<Outcome<unknown>> {
    if (!this.names.has(operation) && operation !== 'connect') {
      return fail(
        'not_found',
        `the oauth component has no operation "${operation}" (it has: oauth, connect)`,
      );
    }
    const payload = envelope.payload;
    if (!isRecord(payload) || typeof payload.provider !== 'string' || payload.provider === '') {
      return fail('invalid_input', 'the oauth node needs a payload {provider, scopes?}');
    }
    const node = payload as unknown as OAuthNodePayload;
    const meta = isRecord(envelope.metadata) ? envelope.metadata : {};
    if (meta.resumed === true) {
      const input = isRecord(meta.input) ? meta.input : {};
      const m = isRecord(input.metadata) ? input.metadata : {};
      if (
        input.action === OAUTH_CONSENT_ACTION ||
        m[OAUTH_METADATA.handle] !== undefined ||
        m[OAUTH_METADATA.error] !== undefined
      ) {
        return this.#finish(envelope, node, m);
      }
      const text = typeof input.text === 'string' ? input.text.trim().toLowerCase() : '';
      if (text !== '' && this.#cancel.has(text)) {
        return fail('permission_denied', `the user cancelled the sign-in with ${node.provider}`);
      }
      return this.#prompt(envelope, node, meta, true);
    }
    return this.#prompt(envelope, node, meta, false);
  }

  async #finish(
    envelope: InvocationEnvelope,
    node: OAuthNodePayload,
    m: Record<string, unknown>,
  ): Promise<Outcome<unknown>> {
    const error = m[OAUTH_METADATA.error];
    if (typeof error === 'string' && error !== '') {
      const message =
        typeof m[OAUTH_METADATA.errorMessage] === 'string' ? String(m[OAUTH_METADATA.errorMessage]) : error;
      return fail(nodeErrorCode(error as OAuthErrorCode), message);
    }
    const handle = m[OAUTH_METADATA.handle];
    if (typeof handle !== 'string')
      return fail('invalid_input', 'the consent message carries no token handle');
    try {
      const info = await this.options.broker.inspectHandle(handle, envelope.ctx);
      if (info.provider !== node.provider) {
        return fail(
          'permission_denied',
          `the completed consent is for "${info.provider}", not "${node.provider}"`,
        );
      }
      const caller = userOf(envelope.ctx);
      if (info.scope.user !== undefined && caller !== undefined && info.scope.user !== caller) {
        return fail('permission_denied', 'the completed consent belongs to another user');
      }
      const out: OAuthNodeOutput = {
        handle: info.handle,
        provider: info.provider,
        scopes: info.scopes,
        expires_at: info.expires_at,
      };
      return { Done: out };
    } catch (e) {
      return failFrom(e);
    }
  }

  async #prompt(
    envelope: InvocationEnvelope,
    node: OAuthNodePayload,
    meta: Record<string, unknown>,
    reminder: boolean,
  ): Promise<Outcome<unknown>> {
    const conv = conversationOf(envelope, meta);
    const req: StartConsentRequest = {
      ctx: envelope.ctx,
      provider: node.provider,
      flow_id: envelope.flow_id,
      node_id: envelope.step_id,
      ...(node.scopes !== undefined ? { scopes: node.scopes } : {}),
      ...(conv.reply_scope ? { reply_scope: conv.reply_scope } : {}),
      ...(conv.channel ? { channel: conv.channel } : {}),
      ...(conv.session_id ? { session_id: conv.session_id } : {}),
      ...(typeof node.login_hint === 'string' ? { login_hint: node.login_hint } : {}),
    };
    const redirect = node.redirect_uri ?? this.options.redirectUri;
    if (redirect !== undefined) req.redirect_uri = redirect;
    try {
      const started = await this.options.broker.startConsent(req);
      const displayName =
        this.options.broker.providers().find((p) => p.id === started.provider)?.display_name ??
        started.provider;
      const prompt: ConsentPrompt = {
        provider: started.provider,
        display_name: displayName,
        authorize_url: started.authorize_url,
        scopes: started.scopes,
        expires_at: started.expires_at,
        expires_in_minutes: Math.max(1, Math.round((Date.parse(started.expires_at) - this.#now()) / 60_000)),
        ...(typeof node.message === 'string' ? { message: node.message } : {}),
        reminder,
      };
      const reply = (this.options.consentMessage ?? defaultConsentMessage)(prompt);
      const outcome: OAuthPendingOutcome = {
        Pending: {
          reason: this.options.reason ?? 'oauth consent',
          expected_input: [...OAUTH_EXPECTED_INPUT],
          reply,
        },
      };
      return outcome;
    } catch (e) {
      return failFrom(e);
    }
  }
}

/** The default consent reply: `{text, card}` with an Adaptive Card (1.4) whose button opens the sign-in link. */
export function defaultConsentMessage(p: ConsentPrompt): { text: string; card: Record<string, unknown> } {
  const lead =
    p.message ??
    (p.reminder
      ? `I'm still waiting for you to sign in with ${p.display_name}.`
      : `To continue, sign in with ${p.display_name}.`);
  const note = `The link works once and expires in ${p.expires_in_minutes} minute${p.expires_in_minutes === 1 ? '' : 's'}.`;
  return {
    text: `${lead} ${note}\n${p.authorize_url}`,
    card: {
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.4',
      body: [
        {
          type: 'TextBlock',
          text: `Sign in with ${p.display_name}`,
          weight: 'Bolder',
          size: 'Medium',
          wrap: true,
        },
        { type: 'TextBlock', text: `${lead} ${note}`, wrap: true },
      ],
      actions: [{ type: 'Action.OpenUrl', title: `Sign in with ${p.display_name}`, url: p.authorize_url }],
    },
  };
}

/**
 * Where the node's conversation is: `metadata.conversation` `{reply_scope, channel, session_id}` when the engine
 * passes it, else the ctx's `session_id` as the conversation.
 */
function conversationOf(
  envelope: InvocationEnvelope,
  meta: Record<string, unknown>,
): { reply_scope?: ReplyScope; channel?: string; session_id?: string } {
  const c = isRecord(meta.conversation) ? meta.conversation : {};
  const out: { reply_scope?: ReplyScope; channel?: string; session_id?: string } = {};
  if (c.reply_scope !== undefined) {
    try {
      out.reply_scope = validateReplyScope(c.reply_scope);
    } catch {
      // ignore a malformed scope: the consent then resumes by session id, if any
    }
  }
  if (typeof c.channel === 'string' && c.channel !== '') out.channel = c.channel;
  const session =
    typeof c.session_id === 'string' && c.session_id !== '' ? c.session_id : envelope.ctx.session_id;
  if (session !== undefined && session !== '') out.session_id = session;
  if (!out.reply_scope && out.session_id) out.reply_scope = { conversation: out.session_id };
  return out;
}

function fail(code: ErrorCode, message: string): Outcome<unknown> {
  return { Error: { code, message } };
}

function failFrom(e: unknown): Outcome<unknown> {
  if (isOAuthError(e)) return fail(nodeErrorCode(e.code), e.message);
  return fail('internal', `the oauth node failed (${(e as Error)?.name ?? 'error'})`);
}

/** The flow-level error code (upstream ErrorCode) of an OAuth error code. */
export function nodeErrorCode(code: OAuthErrorCode | string): ErrorCode {
  switch (code) {
    case 'GT_OAUTH_DENIED':
    case 'GT_OAUTH_FORBIDDEN':
    case 'GT_OAUTH_HANDLE_INVALID':
    case 'GT_OAUTH_HANDLE_SCOPE':
      return 'permission_denied';
    case 'GT_OAUTH_CONSENT_REQUIRED':
    case 'GT_OAUTH_HANDLE_EXPIRED':
    case 'GT_OAUTH_STATE_EXPIRED':
    case 'GT_OAUTH_STATE_INVALID':
    case 'GT_OAUTH_STATE_REUSED':
      return 'unauthenticated';
    case 'GT_OAUTH_HTTP':
    case 'GT_OAUTH_DISCOVERY':
    case 'GT_OAUTH_TOKEN':
    case 'GT_OAUTH_ID_TOKEN':
      return 'unavailable';
    case 'GT_OAUTH_PROVIDER':
    case 'GT_OAUTH_INVALID':
    case 'GT_OAUTH_REDIRECT':
    case 'GT_OAUTH_CONFIG':
      return 'invalid_input';
    default:
      return 'internal';
  }
}
