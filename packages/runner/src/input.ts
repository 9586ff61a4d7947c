import { randomUUID } from 'node:crypto';
import { type ChannelMessageEnvelope, type ReplyScope, tenantCtx } from '@greentic/types';
import { RunnerError } from './errors.js';

export interface InputDefaults {
  env: string;
  tenant: string;
  team?: string;
  user?: string;
  channel?: string;
  conversation?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns what a person passes to `run-flow --input` into a ChannelMessageEnvelope:
 * - a JSON string or `{"text": "…"}` → a text message on the `cli` channel;
 * - a Telegram update (`{"update_id":…, "message":{…}}`, also wrapped as `{"update":{…}}`) → a `telegram` message,
 *   conversation = chat id, thread = message_thread_id, callback queries become `action` metadata;
 * - a full ChannelMessageEnvelope-shaped object (has `channel` and `session_id`) → taken as is, with the tenant
 *   from the defaults when absent.
 */
export function envelopeFromInput(input: unknown, d: InputDefaults): ChannelMessageEnvelope {
  const ctx = tenantCtx({ env: d.env, tenant: d.tenant, team: d.team, user: d.user });
  const base = (
    channel: string,
    conversation: string,
    text: string | undefined,
    extra: Partial<ChannelMessageEnvelope> = {},
  ) => {
    const scope: ReplyScope = { conversation };
    const env: ChannelMessageEnvelope = {
      id: randomUUID(),
      tenant: ctx,
      channel,
      session_id: conversation,
      reply_scope: scope,
      to: [],
      attachments: [],
      metadata: {},
      extensions: {},
      ...(text !== undefined ? { text } : {}),
      ...extra,
    };
    return env;
  };

  if (typeof input === 'string') return base(d.channel ?? 'cli', d.conversation ?? 'cli', input);
  if (!isRecord(input)) {
    throw new RunnerError('GT_RUNNER_BAD_INPUT', 'input must be a JSON string or object, e.g. {"text":"hi"}');
  }
  const update = isRecord(input.update)
    ? input.update
    : 'update_id' in input || isRecord(input.message) || isRecord(input.callback_query)
      ? input
      : undefined;
  if (update) return fromTelegram(update, d, base);
  if (typeof input.channel === 'string' && typeof input.session_id === 'string') {
    const env = input as unknown as ChannelMessageEnvelope;
    return {
      to: [],
      attachments: [],
      metadata: {},
      extensions: {},
      ...env,
      id: typeof env.id === 'string' ? env.id : randomUUID(),
      tenant: isRecord(env.tenant) ? env.tenant : ctx,
    };
  }
  if ('text' in input && input.text !== undefined && typeof input.text !== 'string') {
    throw new RunnerError('GT_RUNNER_BAD_INPUT', 'input.text must be a string');
  }
  const metadata: Record<string, string> = {};
  if (typeof input.action === 'string') metadata.action = input.action;
  return base(
    d.channel ?? 'cli',
    typeof input.conversation === 'string' ? input.conversation : (d.conversation ?? 'cli'),
    input.text as string | undefined,
    {
      metadata,
    },
  );
}

function fromTelegram(
  update: Record<string, unknown>,
  d: InputDefaults,
  base: (
    c: string,
    conv: string,
    t: string | undefined,
    extra?: Partial<ChannelMessageEnvelope>,
  ) => ChannelMessageEnvelope,
): ChannelMessageEnvelope {
  const cq = isRecord(update.callback_query) ? update.callback_query : undefined;
  const message = isRecord(update.message)
    ? update.message
    : isRecord(update.edited_message)
      ? update.edited_message
      : isRecord(cq?.message)
        ? (cq.message as Record<string, unknown>)
        : undefined;
  if (!message && !cq)
    throw new RunnerError(
      'GT_RUNNER_BAD_INPUT',
      'telegram update has neither "message" nor "callback_query"',
    );
  const chat = isRecord(message?.chat) ? message.chat : undefined;
  const from = isRecord(cq?.from) ? cq.from : isRecord(message?.from) ? message.from : undefined;
  const conversation = chat?.id !== undefined ? String(chat.id) : (d.conversation ?? 'telegram');
  const metadata: Record<string, string> = {};
  if (update.update_id !== undefined) metadata.update_id = String(update.update_id);
  if (message?.message_id !== undefined) metadata.message_id = String(message.message_id);
  if (typeof cq?.data === 'string') metadata.action = cq.data;
  const text =
    typeof message?.text === 'string' && !cq
      ? message.text
      : typeof cq?.data === 'string'
        ? cq.data
        : undefined;
  const thread = message?.message_thread_id !== undefined ? String(message.message_thread_id) : undefined;
  const env = base('telegram', conversation, text, {
    metadata,
    ...(from?.id !== undefined
      ? { from: { id: String(from.id), kind: from.is_bot === true ? 'bot' : 'user' } }
      : {}),
  });
  if (thread !== undefined) env.reply_scope = { conversation, thread };
  return env;
}
