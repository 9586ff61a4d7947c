import { type ChannelMessageEnvelope, replyScopeHash, teamOf, userOf } from '@greentic/types';

/** The token that stands for "no team" in subjects and keys (as in upstream secret URIs `…/<team|_>/…`). */
export const NO_TEAM = '_';

/** Header names the runner reads and writes on NATS messages. */
export const HEADERS = {
  /** JetStream de-duplication id (set through the client's `msgID` option). */
  msgId: 'Nats-Msg-Id',
  /** The message's number in its conversation (decimal), stamped by the ingress publisher. */
  seq: 'Greentic-Seq',
  /** The provider's own message id (Telegram update_id, Slack event_id), when the gateway gave one. */
  providerMessageId: 'Greentic-Provider-Message-Id',
  /** On egress: the incoming message id the reply answers. */
  inReplyTo: 'Greentic-In-Reply-To',
  /** On egress: the turn status (done, pending, error). */
  turnStatus: 'Greentic-Turn-Status',
  /** On dead letters: why the message was given up (a GT_* code and a sentence). */
  dlqReason: 'Greentic-Dlq-Reason',
  /** On dead letters: the subject, stream and stream sequence the message came from, and its delivery count. */
  dlqSubject: 'Greentic-Dlq-Subject',
  dlqStream: 'Greentic-Dlq-Stream',
  dlqStreamSeq: 'Greentic-Dlq-Stream-Seq',
  dlqDeliveries: 'Greentic-Dlq-Deliveries',
  /** W3C trace context. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * One subject token as upstream writes it (greentic-messaging `messaging_subjects`): space, `*`, `>` and `/`
 * become `-`; so does `.` (a dot would split the token) and any other whitespace or control character. An empty
 * value becomes `_`.
 */
export function sanitizeToken(value: string | undefined): string {
  if (value === undefined || value === '') return NO_TEAM;
  if (SAFE_TOKEN.test(value)) return value; // the usual case, checked cheaply
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
  return value.replace(/[\s*>/.\u0000-\u001f\u007f]/g, '-');
}

export interface SubjectParts {
  env: string;
  tenant: string;
  team?: string;
  channel: string;
}

/** `env`, `tenant`, `team` (or `_`) and `channel` of an envelope. */
export function subjectParts(msg: ChannelMessageEnvelope): SubjectParts {
  return {
    env: msg.tenant.env,
    tenant: msg.tenant.tenant_id ?? msg.tenant.tenant,
    team: teamOf(msg.tenant),
    channel: msg.channel,
  };
}

function tokens(p: SubjectParts): string {
  return [p.env, p.tenant, p.team, p.channel].map(sanitizeToken).join('.');
}

/** `<prefix>.ingress.{env}.{tenant}.{team}.{channel}` (prefix `greentic.messaging` by default). */
export function ingressSubject(prefix: string, p: SubjectParts): string {
  return `${prefix}.ingress.${tokens(p)}`;
}

/** `<prefix>.egress.{env}.{tenant}.{team}.{channel}`. */
export function egressSubject(prefix: string, p: SubjectParts): string {
  return `${prefix}.egress.${tokens(p)}`;
}

/** `<dlqSubject>.{env}.{tenant}` (default `greentic.messaging.dlq.{env}.{tenant}`). */
export function dlqSubject(dlqPrefix: string, env: string | undefined, tenant: string | undefined): string {
  return `${dlqPrefix}.${sanitizeToken(env)}.${sanitizeToken(tenant)}`;
}

/**
 * The ingress filter of a runner: every channel of its environment, or of one tenant.
 * `<prefix>.ingress.{env}.>` / `<prefix>.ingress.{env}.{tenant}.>`.
 */
export function ingressFilter(prefix: string, env: string, tenant?: string): string {
  return tenant === undefined
    ? `${prefix}.ingress.${sanitizeToken(env)}.>`
    : `${prefix}.ingress.${sanitizeToken(env)}.${sanitizeToken(tenant)}.>`;
}

/** The egress filter of an egress worker: `<prefix>.egress.{env}.>` / `<prefix>.egress.{env}.{tenant}.>`. */
export function egressFilter(prefix: string, env: string, tenant?: string): string {
  return tenant === undefined
    ? `${prefix}.egress.${sanitizeToken(env)}.>`
    : `${prefix}.egress.${sanitizeToken(env)}.${sanitizeToken(tenant)}.>`;
}

/**
 * The conversation a message belongs to, as the engine scopes it (env, tenant, team, user, ReplyScope hash):
 * the key of its sequence counter.
 */
export function conversationKey(msg: ChannelMessageEnvelope): string {
  const scope = msg.reply_scope ?? { conversation: msg.session_id };
  return [
    msg.tenant.env,
    msg.tenant.tenant_id ?? msg.tenant.tenant,
    teamOf(msg.tenant) ?? NO_TEAM,
    userOf(msg.tenant) ?? NO_TEAM,
    replyScopeHash(scope),
  ]
    .map((t) => encodeURIComponent(t))
    .join(':');
}

/** Nats-Msg-Id of an incoming message: scoped by its subject, so two tenants' provider ids never collide. */
export function ingressMsgId(subject: string, id: string): string {
  return `${subject}|${id}`;
}

/** Nats-Msg-Id of a reply: scoped by the egress subject; reply ids (`<message id>:<n>`) are stable per turn. */
export function egressMsgId(subject: string, replyId: string): string {
  return `${subject}|${replyId}`;
}
