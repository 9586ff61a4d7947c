import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from 'nats';
import { RunnerError } from '../errors.js';

/** The JetStream layout of one deployment (from the `nats` section of the configuration). */
export interface BusTopology {
  subjectPrefix: string;
  dlqSubject: string;
  streams: { ingress: string; egress: string; dlq: string };
  storage: 'file' | 'memory';
  duplicateWindowMs: number;
  /** 0: keep forever. */
  maxAgeMs: number;
}

export interface ConsumerSettings {
  stream: string;
  durable: string;
  filterSubject: string;
  maxDeliver: number;
  ackWaitMs: number;
  maxAckPending: number;
  /**
   * Where a new consumer starts: `all` (default; the ingress work queue) or `new` (the egress workers: a first start
   * must not send the stream's whole history again). An existing consumer keeps its position.
   */
  deliverPolicy?: 'all' | 'new';
}

/** The three streams, by role: subjects, retention. */
export function streamConfigs(t: BusTopology): Partial<StreamConfig>[] {
  const common = {
    storage: t.storage === 'memory' ? StorageType.Memory : StorageType.File,
    duplicate_window: nanos(t.duplicateWindowMs),
    max_age: nanos(t.maxAgeMs),
    discard: DiscardPolicy.Old,
    num_replicas: 1,
  };
  return [
    {
      ...common,
      name: t.streams.ingress,
      description:
        'Greentic ingress: gateway → runner (work queue, one durable consumer shared by the runners)',
      subjects: [`${t.subjectPrefix}.ingress.>`],
      retention: RetentionPolicy.Workqueue,
    },
    {
      ...common,
      name: t.streams.egress,
      description: 'Greentic egress: runner → channel senders (replies, Nats-Msg-Id = reply id)',
      subjects: [`${t.subjectPrefix}.egress.>`],
      retention: RetentionPolicy.Limits,
    },
    {
      ...common,
      name: t.streams.dlq,
      description: 'Greentic dead letters: messages the runners gave up on, with the reason in headers',
      subjects: [`${t.dlqSubject}.>`],
      retention: RetentionPolicy.Limits,
    },
  ];
}

const isNotFound = (e: unknown) =>
  /not found/i.test(String((e as Error)?.message)) ||
  (e as { api_error?: { err_code?: number } })?.api_error?.err_code === 10059;

/**
 * Creates the streams, or updates them to this configuration; safe to run from several runners at once (the
 * loser of a concurrent create updates instead).
 */
export async function ensureStreams(jsm: JetStreamManager, t: BusTopology): Promise<void> {
  for (const cfg of streamConfigs(t)) {
    const name = cfg.name!;
    try {
      await upsertStream(jsm, cfg);
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_BUS',
        `JetStream stream ${name} (subjects ${cfg.subjects?.join(', ')}): cannot create or update it: ${(e as Error).message}`,
        { stream: name },
        { cause: e },
      );
    }
  }
}

async function upsertStream(jsm: JetStreamManager, cfg: Partial<StreamConfig>) {
  const name = cfg.name!;
  for (let attempt = 0; attempt < 3; attempt++) {
    let exists = true;
    try {
      await jsm.streams.info(name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      exists = false;
    }
    try {
      if (exists) {
        // retention and storage cannot change on an existing stream: keep them as they are
        const { retention: _r, storage: _s, ...update } = cfg;
        await jsm.streams.update(name, update);
      } else await jsm.streams.add(cfg);
      return;
    } catch (e) {
      // another runner created it between our info and add: go round and update it instead
      if (!exists && /already in use|exists/i.test((e as Error).message)) continue;
      throw e;
    }
  }
}

/** Creates the durable pull consumer the runners share, or updates its limits. */
export async function ensureConsumer(jsm: JetStreamManager, c: ConsumerSettings): Promise<void> {
  const config = {
    durable_name: c.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: c.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    filter_subject: c.filterSubject,
    max_deliver: c.maxDeliver,
    ack_wait: nanos(c.ackWaitMs),
    max_ack_pending: c.maxAckPending,
  };
  try {
    let existing: Awaited<ReturnType<JetStreamManager['consumers']['info']>> | undefined;
    try {
      existing = await jsm.consumers.info(c.stream, c.durable);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!existing) {
      try {
        await jsm.consumers.add(c.stream, config);
        return;
      } catch (e) {
        if (!/already in use|exists/i.test((e as Error).message)) throw e;
        existing = await jsm.consumers.info(c.stream, c.durable);
      }
    }
    if (existing.config.filter_subject !== c.filterSubject) {
      throw new Error(
        `it exists with filter ${existing.config.filter_subject}; runners with another filter (${c.filterSubject}) need another consumer name (nats.consumer)`,
      );
    }
    const { durable_name: _d, deliver_policy: _p, filter_subject: _f, ...limits } = config;
    await jsm.consumers.update(c.stream, c.durable, limits);
  } catch (e) {
    throw new RunnerError(
      'GT_RUNNER_BUS',
      `JetStream consumer ${c.durable} on stream ${c.stream}: ${(e as Error).message}`,
      { stream: c.stream, consumer: c.durable },
      { cause: e },
    );
  }
}
