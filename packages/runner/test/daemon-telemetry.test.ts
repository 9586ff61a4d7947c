// Platform services in `greentic-runner serve` (a real process): with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set the
// daemon exports its turn spans, and a webhook's `traceparent` makes the turn a child of the caller's span (memory
// mode); the spans are flushed on SIGTERM before the process exits; the log is JSON lines on stderr with personal
// data redacted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from './fake-telegram.js';
import { logLines, startRunner, waitFor, writeConfig } from './helpers.js';
import { OtlpJsonReceiver } from './platform-support.js';

const TG_TOKEN = '123456:TEST-telemetry-bot';
const TG_SECRET = 'webhook-secret-telemetry-0123';
const EMAIL = 'ada.lovelace@example.com';
// the node fails with a message that quotes the text (and the email in it); nothing handles the error
const FLOW = `id: tele
type: messaging
nodes:
  remember:
    state.set: { key: contact, scope: "{{in.input.text}}", value: "x" }
    routing: out
`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

let dir: string;
let tg: FakeTelegram;
const receiver = new OtlpJsonReceiver();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gt-daemon-telemetry-'));
  writeFileSync(join(dir, 'tele.ygtc'), FLOW);
  tg = await startFakeTelegram(TG_TOKEN);
  await receiver.start();
});

afterAll(async () => {
  await tg?.close();
  await receiver.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('serve with OpenTelemetry', () => {
  it('exports the turn as a child of the webhook caller, flushes on SIGTERM, and redacts its log', async () => {
    const file = writeConfig({
      http: { host: '127.0.0.1', port: 0 },
      flows: { paths: [join(dir, 'tele.ygtc')] },
      tenancy: { env: 'test' },
      connectors: [
        {
          provider: 'telegram',
          id: 'acme-bot',
          binding: { env: 'test', tenant: 'acme' },
          botToken: 'env:TG_BOT_TOKEN',
          webhookSecrets: ['env:TG_WEBHOOK_SECRET'],
          apiBaseUrl: tg.url,
        },
      ],
    });
    const runner = await startRunner(file, {
      GREENTIC_HOME: dir,
      TG_BOT_TOKEN: TG_TOKEN,
      TG_WEBHOOK_SECRET: TG_SECRET,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl,
      OTEL_BSP_SCHEDULE_DELAY: '60000', // nothing leaves before the shutdown flush
    });
    try {
      const hook = await fetch(`${runner.url}/webhooks/telegram/acme-bot`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-telegram-bot-api-secret-token': TG_SECRET,
          traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
        },
        body: telegramUpdate(9001, `write to me at ${EMAIL}`),
      });
      expect(hook.status).toBe(200);
      await waitFor(() => logLines(runner.stderr()).some((l) => l.msg === 'turn failed'), 'the failed turn');
    } finally {
      runner.proc.kill('SIGTERM');
    }
    expect(await runner.exited).toBe(0);

    // the spans arrived with the shutdown flush: the turn continues the caller's trace
    const turn = receiver.spans().find((s) => s.name === 'greentic.turn');
    expect(turn).toBeDefined();
    expect(turn!.traceId).toBe(TRACE_ID);
    expect(turn!.parentSpanId).toBe(PARENT_SPAN);
    expect(turn!.resource).toMatchObject({ 'service.name': 'greentic-runner' });
    expect(turn!.attributes).toMatchObject({ 'greentic.tenant.id': 'acme', 'greentic.flow.id': 'tele' });
    const node = receiver.spans().find((s) => s.name === 'greentic.node');
    expect(node?.parentSpanId).toBe(turn!.spanId);
    expect(receiver.bodies.join('\n')).not.toContain(EMAIL);

    // one JSON line format on stderr (level names, ISO times), the email redacted from the turn's error
    const lines = logLines(runner.stderr());
    const failed = lines.find((l) => l.msg === 'turn failed')!;
    expect(failed).toMatchObject({ level: 'warn', code: 'GT_RUNNER_NODE_FAILED' });
    expect(String(failed.error)).toContain('[REDACTED]');
    expect(runner.stderr()).not.toContain(EMAIL);
    expect(lines.find((l) => l.msg === 'listening')).toMatchObject({ level: 'info', telemetry: true });
    expect(Date.parse(String(lines.find((l) => l.msg === 'stopped')?.time))).not.toBeNaN();
  });
});
