import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryExporter } from '../test/memory-exporter.js';
import { createLogger, traceLogFields } from './logger.js';
import { Redactor } from './redaction.js';
import { initTelemetry, type Telemetry } from './sdk.js';
import { GreenticTracer } from './tracer.js';

type Line = Record<string, unknown>;

function capture() {
  const lines: Line[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s) as Line) } };
}

describe('createLogger', () => {
  let telemetry: Telemetry;
  const tracer = new GreenticTracer();
  beforeAll(async () => {
    telemetry = await initTelemetry({
      serviceName: 'logger-test',
      exporter: new MemoryExporter(),
      processor: 'simple',
      env: {},
    });
  });
  afterAll(() => telemetry.shutdown());

  it('adds trace_id and span_id of the active span', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, env: {} });
    let ids: { trace: string; node: string; turn: string } | undefined;
    await tracer.withTurn({ flowId: 'f' }, async (turn) => {
      log.info('turn started');
      await tracer.withNode({ flowId: 'f', nodeId: 'n' }, async (node) => {
        await new Promise((r) => setTimeout(r, 1));
        log.info({ step: 1 }, 'in node');
        ids = { trace: node.traceId, node: node.spanId, turn: turn.spanId };
      });
    });
    expect(lines[0]).toMatchObject({
      msg: 'turn started',
      trace_id: ids!.trace,
      span_id: ids!.turn,
      trace_flags: '01',
    });
    expect(lines[1]).toMatchObject({ msg: 'in node', step: 1, trace_id: ids!.trace, span_id: ids!.node });
  });

  it('adds no trace fields outside a span', () => {
    const { lines, destination } = capture();
    createLogger({ destination, env: {} }).info('idle');
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(traceLogFields()).toEqual({});
  });

  it('redacts the message, format arguments, the merged object and child bindings', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, env: {}, base: null });
    const input = { user: { email: 'bob@example.com' }, headers: { authorization: 'Bearer abc123' }, n: 3 };
    log.info(input, 'mail from %s with Bearer %s', 'alice@example.com', 'tok123456');
    log.child({ caller: 'carol@example.com' }).warn('call +14155552671');
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      user: { email: '[REDACTED]' },
      headers: { authorization: '[REDACTED]' },
      n: 3,
      msg: 'mail from [REDACTED] with Bearer [REDACTED]',
    });
    expect(lines[1]).toMatchObject({ caller: '[REDACTED]', msg: 'call [REDACTED]' });
    expect(input.user.email).toBe('bob@example.com');
  });

  it('redacts the bindings of grandchild loggers', () => {
    const { lines, destination } = capture();
    createLogger({ destination, env: {} })
      .child({ tenant: 'acme' })
      .child({ contact: 'gina@example.com', password: 'pw' })
      .info('hi');
    expect(lines[0]).toMatchObject({ tenant: 'acme', contact: '[REDACTED]', password: '[REDACTED]' });
  });

  it('redacts errors logged as the first argument or under err', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, env: {} });
    log.error(new Error('no account for dave@example.com'));
    log.error({ err: new Error('token=0123456789abcdef0123') }, 'failed');
    expect(lines[0]).toMatchObject({
      msg: 'no account for [REDACTED]',
      err: { message: 'no account for [REDACTED]', type: 'Error' },
    });
    expect(JSON.stringify(lines[0])).not.toContain('dave@example.com');
    expect(lines[1]).toMatchObject({ msg: 'failed', err: { message: 'token=[REDACTED]' } });
  });

  it('follows PII_REDACTION_MODE and accepts a shared Redactor or false', () => {
    for (const [options, expected] of [
      [{ env: { PII_REDACTION_MODE: 'off' } }, 'x@example.com'],
      [{ env: {}, redaction: false as const }, 'x@example.com'],
      [{ env: { PII_REDACTION_MODE: 'off' }, redaction: new Redactor() }, '[REDACTED]'],
      [{ env: {}, redaction: { replacement: '***' } }, '***'],
    ] as const) {
      const { lines, destination } = capture();
      createLogger({ ...options, destination }).info('x@example.com');
      expect(lines[0]!.msg).toBe(expected);
    }
  });

  it('reads LOG_LEVEL and refuses an unknown level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, env: { LOG_LEVEL: 'WARN' } });
    log.info('dropped');
    log.warn('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
    expect(() => createLogger({ destination, level: 'loud', env: {} })).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_CONFIG', setting: 'level' }),
    );
  });

  it('combines a user mixin with the trace fields', async () => {
    const { lines, destination } = capture();
    const log = createLogger({
      destination,
      env: {},
      name: 'runner',
      pino: { mixin: () => ({ app: 'demo' }) },
    });
    await tracer.withTurn({}, () => log.info('hi'));
    expect(lines[0]).toMatchObject({
      name: 'runner',
      app: 'demo',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });
});
