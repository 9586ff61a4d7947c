// An egress/DLQ reader over JetStream (what was stored, not what was published: JetStream drops a copy whose
// Nats-Msg-Id it has seen, while core subscribers would still get it).
import type { JetStreamClient, JsMsg } from 'nats';
import type { EgressMessage } from '../src/bus/messages.js';

export interface Stored<T> {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  body: T;
}

/** Reads a stream from the start with an ordered consumer and keeps reading until `stop()`. */
export async function streamReader<T = EgressMessage>(js: JetStreamClient, stream: string) {
  const items: Stored<T>[] = [];
  const consumer = await js.consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 512 });
  const done = (async () => {
    for await (const m of messages) items.push(parse<T>(m));
  })();
  return {
    items,
    async stop() {
      await messages.close();
      await done.catch(() => {});
    },
  };
}

function parse<T>(m: JsMsg): Stored<T> {
  const headers: Record<string, string> = {};
  if (m.headers) for (const [k, v] of m.headers) headers[k] = v.join(',');
  let body: T;
  try {
    body = m.json<T>();
  } catch {
    body = Buffer.from(m.data).toString('utf8') as T;
  }
  return { seq: m.seq, subject: m.subject, headers, body };
}
