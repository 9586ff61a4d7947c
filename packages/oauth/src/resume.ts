import { type ChannelMessageEnvelope, channelMessage, type MessageMetadata } from '@greentic/types';
import type { ConsentCompleteEvent } from './broker.js';

/** `metadata.action` of the message that resumes a conversation after a consent. */
export const OAUTH_CONSENT_ACTION = 'oauth.consent';

/** Metadata keys of the resume message. */
export const OAUTH_METADATA = {
  consent: 'oauth_consent',
  provider: 'oauth_provider',
  handle: 'oauth_handle',
  error: 'oauth_error',
  errorMessage: 'oauth_error_message',
} as const;

export interface ConsentResumeOptions {
  /** The channel of the synthetic message (default: the one recorded when the consent started, else `oauth`). */
  channel?: string;
}

/**
 * The synthetic message a runner publishes into the conversation when a consent ends: same tenant ctx (env,
 * tenant, team, user) and reply scope as the turn that started it, empty text, and metadata
 * `{action: 'oauth.consent', oauth_consent, oauth_provider, oauth_handle | oauth_error + oauth_error_message}`.
 * Its id is `oauth-consent-<consent id>`, so a redelivery is deduplicated by the engine. `undefined` when the consent
 * was started without a conversation (no reply scope and no session id).
 */
export function consentResumeMessage(
  event: ConsentCompleteEvent,
  options: ConsentResumeOptions = {},
): ChannelMessageEnvelope | undefined {
  const sessionId = event.session_id ?? event.reply_scope?.conversation;
  if (sessionId === undefined) return undefined;
  const metadata: MessageMetadata = {
    action: OAUTH_CONSENT_ACTION,
    [OAUTH_METADATA.consent]: event.consent_id,
    [OAUTH_METADATA.provider]: event.provider,
  };
  if (event.handle !== undefined) metadata[OAUTH_METADATA.handle] = event.handle;
  if (event.error !== undefined) {
    metadata[OAUTH_METADATA.error] = event.error.code;
    metadata[OAUTH_METADATA.errorMessage] = event.error.message;
  }
  return channelMessage({
    id: `oauth-consent-${event.consent_id}`,
    tenant: event.ctx,
    channel: options.channel ?? event.channel ?? 'oauth',
    session_id: sessionId,
    reply_scope: event.reply_scope,
    text: '',
    metadata,
  });
}
