// Control messages between the runners of one environment: plain NATS (not stored in a stream), fire and forget.
// Today one kind: "reload" — a runner that reloaded (POST /admin/reload, SIGHUP) asks the others to reload too.
import type { NatsConnection, Subscription } from 'nats';
import { sanitizeToken } from './subjects.js';

/** `<controlSubject>.reload.{env}` (default `greentic.messaging.control.reload.{env}`). */
export function reloadSubject(controlSubject: string, env: string): string {
  return `${controlSubject}.reload.${sanitizeToken(env)}`;
}

/** The payload of a reload broadcast (JSON). */
export interface ReloadControlMessage {
  type: 'reload';
  /** The sending runner's instance id: it ignores its own message. */
  sender: string;
  /** Why it reloaded (`POST /admin/reload`, `SIGHUP`, …). */
  reason: string;
  /** The environment (`tenancy.env`) of the sender. */
  env: string;
  /** When it was sent (ISO 8601). */
  sent_at: string;
}

const MAX_FIELD = 256;

/** Parses a reload message; a malformed one gives the reason it was refused. */
export function parseReloadMessage(
  data: Uint8Array,
): { ok: true; message: ReloadControlMessage } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (e) {
    return { ok: false, error: `not JSON (${(e as Error).message})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (o.type !== 'reload')
    return { ok: false, error: `type must be "reload" (got ${JSON.stringify(o.type)})` };
  for (const k of ['sender', 'reason', 'env', 'sent_at'] as const) {
    const f = o[k];
    if (typeof f !== 'string' || f === '' || f.length > MAX_FIELD)
      return { ok: false, error: `${k} must be a non-empty string of at most ${MAX_FIELD} characters` };
  }
  return {
    ok: true,
    message: {
      type: 'reload',
      sender: o.sender as string,
      reason: o.reason as string,
      env: o.env as string,
      sent_at: o.sent_at as string,
    },
  };
}

export interface ReloadBroadcastOptions {
  nc: NatsConnection;
  controlSubject: string;
  env: string;
  /** This runner's instance id (unique per process and daemon). */
  sender: string;
  /** A reload another runner asked for (never this runner's own message, never a malformed one). */
  onReload: (m: ReloadControlMessage) => void | Promise<void>;
  /** A message that was not understood. */
  onMalformed: (error: string, subject: string) => void;
}

/** Publishes this runner's reloads and answers the others'. */
export class ReloadBroadcast {
  readonly subject: string;
  private sub?: Subscription;

  constructor(private readonly o: ReloadBroadcastOptions) {
    this.subject = reloadSubject(o.controlSubject, o.env);
  }

  /** Subscribes to the environment's reload subject. */
  start(): void {
    this.sub = this.o.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) {
          this.o.onMalformed(err.message, this.subject);
          return;
        }
        const r = parseReloadMessage(msg.data);
        if (!r.ok) {
          this.o.onMalformed(r.error, msg.subject);
          return;
        }
        if (r.message.sender === this.o.sender) return; // our own broadcast
        void Promise.resolve()
          .then(() => this.o.onReload(r.message))
          .catch(() => {});
      },
    });
  }

  /** Tells the other runners to reload (fire and forget: runners not connected now reload at their next start). */
  publish(reason: string): void {
    const m: ReloadControlMessage = {
      type: 'reload',
      sender: this.o.sender,
      reason,
      env: this.o.env,
      sent_at: new Date().toISOString(),
    };
    this.o.nc.publish(this.subject, JSON.stringify(m));
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}
