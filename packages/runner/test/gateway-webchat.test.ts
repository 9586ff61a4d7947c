// WebChat through the runner daemon:
// - the weather demo in headless Chromium: the daemon serves the WebChat page with the weather flow and the real
//   Wasm weather tool (examples/weather-demo/weather-bot.mjs), against the local forecast stand-in; a person types
//   /weather, a city and the days, and reads the forecast. A screenshot is kept in test-artifacts/webchat/weather.png.
// - Microsoft's botframework-directlinejs client against the daemon's Direct Line endpoint, with NATS JetStream
//   (the turn runs on the runner consumer; the reply comes back through this process's WebChat egress reader).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Activity } from '@greentic/messaging';
import {
  type DirectLineCtor,
  type HeadlessChromium,
  launchChromium,
  loadDirectLine,
} from '@greentic/messaging/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForecastServer } from '../../../examples/weather-demo/forecast-server.mjs';
import {
  buildWeatherTool,
  loadWeatherTool,
  startWeatherRunner,
} from '../../../examples/weather-demo/weather-bot.mjs';
import { loadRunnerConfig, type RunnerConfigInput } from '../src/config/config.js';
import { RunnerDaemon } from '../src/daemon/daemon.js';
import { busConfig, cleanup, repoRoot, uniq, waitFor } from './helpers.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts', 'webchat');

describe('the weather demo on the WebChat page, served by the runner daemon (headless Chromium)', () => {
  let browser: HeadlessChromium;
  let context: BrowserContext;
  let forecast: Awaited<ReturnType<typeof startForecastServer>>;
  let loaded: Awaited<ReturnType<typeof loadWeatherTool>>;
  let daemon: RunnerDaemon;

  beforeAll(async () => {
    // the tool build is cached (the first run of the suite takes ~10 s)
    const built = await buildWeatherTool();
    loaded = await loadWeatherTool(built);
    forecast = await startForecastServer({ startDate: '2025-06-02' });
    daemon = (await startWeatherRunner(loaded.registry, { baseUrl: forecast.url })) as RunnerDaemon;
    browser = await launchChromium({ profilePrefix: 'gt-runner-chromium-' });
    context = browser.context;
  }, 600_000); // a first run may install Chromium (apt) and build the tool

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await loaded?.host.close();
    await forecast?.close();
  });

  async function say(page: Page, text: string) {
    const box = page.getByLabel('Message');
    await box.fill(text);
    await box.press('Enter');
  }

  it('asks for a city and the days, calls the Wasm weather tool and shows the forecast', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    expect(daemon.webchatUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webchat\/$/);
    await page.goto(daemon.webchatUrl!);
    await expect.poll(() => page.locator('body').getAttribute('data-connection')).toBe('online');
    await expect.poll(() => page.title()).toBe('Greentic weather bot');

    await say(page, '/weather');
    await page.locator('.gt-from-bot', { hasText: 'Which city would you like a forecast for?' }).waitFor();
    await say(page, 'Paris');
    await page.locator('.gt-from-bot', { hasText: 'For how many days?' }).waitFor();
    await say(page, '2');
    const answer = page.locator('.gt-from-bot', { hasText: 'Weather for Paris, France' });
    await answer.waitFor({ timeout: 20_000 });
    const text = (await answer.textContent()) ?? '';
    expect(text).toContain('next 2 day(s)');
    expect(text).toMatch(/2025-06-02: [a-z ]+, -?\d+(\.\d+)?–-?\d+(\.\d+)? °C/);
    expect(text).toContain('2025-06-03');
    expect(await page.locator('.gt-from-user').count()).toBe(3);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'weather.png'), fullPage: true });
    expect(problems).toEqual([]);
    const stats = daemon.gateway!.stats();
    expect(stats).toMatchObject({ mode: 'memory', webchat: true, webchatMessages: 3, deadLetters: 0 });
    await page.close();
  });
});

describe('botframework-directlinejs against the daemon (NATS JetStream mode)', () => {
  const SECRET = 'directline-secret-0123456789abcdef';
  let id: string;
  let daemon: RunnerDaemon;
  let DirectLine: DirectLineCtor;
  let Online: number;

  beforeAll(async () => {
    // botframework-directlinejs in Node, with the browser globals it needs (WebSocket, XMLHttpRequest)
    const lib = loadDirectLine();
    DirectLine = lib.DirectLine;
    Online = lib.ConnectionStatus.Online;
    id = uniq('wc');
    const config = loadRunnerConfig(undefined, {
      env: {},
      overrides: {
        ...(busConfig(id) as RunnerConfigInput),
        log: { level: 'warn' },
        webchat: { enabled: true, binding: { env: 'test', tenant: 'acme' }, secrets: ['env:DL_SECRET'] },
      },
    });
    daemon = new RunnerDaemon({ config, env: { DL_SECRET: SECRET } });
    await daemon.start();
  });

  afterAll(async () => {
    await daemon?.stop();
    await cleanup(id);
  });

  it('runs a conversation: token from the secret, messages over the WebSocket, the flow’s replies back', async () => {
    const origin = `http://127.0.0.1:${daemon.address.port}`;
    const minted = await fetch(`${origin}/v3/directline/tokens/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { id: 'ada' } }),
    });
    expect(minted.status).toBe(200);
    const { token, conversationId } = (await minted.json()) as { token: string; conversationId: string };

    const dl = new DirectLine({ domain: `${origin}/v3/directline`, token, webSocket: true });
    const seen: Activity[] = [];
    const sub = dl.activity$.subscribe(
      (a) => seen.push(a),
      () => {},
    );
    try {
      await waitFor(() => dl.connectionStatus$.getValue() === Online, 'Online');
      const post = (text: string) =>
        new Promise<string>((resolve, reject) => {
          dl.postActivity({ from: { id: 'ada' }, type: 'message', text }).subscribe(resolve, reject);
        });
      const bot = () => seen.filter((a) => a.type === 'message' && a.from.role === 'bot');
      const first = await post('hi');
      expect(first).toBe(`${conversationId}|0000001`);
      await waitFor(() => bot().length === 1, 'the first question');
      await post('Ada');
      await waitFor(() => bot().length === 2, 'the second question');
      expect(bot().map((a) => a.text)).toEqual(['Name?', 'Colour?']);
      expect(bot()[0]!.replyToId).toBe(first);
      expect(daemon.stats().consumer).toMatchObject({ turns: 2 });
      expect(daemon.gateway!.stats()).toMatchObject({ mode: 'nats', webchatMessages: 2, repliesSent: 2 });
    } finally {
      sub.unsubscribe();
      dl.end();
    }
  });
});

describe('examples/weather-demo/demo.mjs (a process)', () => {
  it('serves the WebChat page and chats in the terminal at once; /quit stops the server and exits 0', async () => {
    const proc = spawn(
      process.execPath,
      [
        '--conditions=@greentic/source',
        '--import',
        'tsx',
        join(repoRoot, 'examples/weather-demo/demo.mjs'),
        '--web-port',
        '0',
      ],
      { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    proc.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      const url = await waitFor(
        () => /Open (http:\/\/127\.0\.0\.1:\d+\/webchat\/) to chat in your browser/.exec(err)?.[1],
        'the WebChat URL on stderr',
        60_000,
      );
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      await waitFor(
        () => out.includes('Which city would you like a forecast for?'),
        'the first question',
        20_000,
      );
      proc.stdin.end('Paris\n2\n/quit\n');
      expect(await exited).toBe(0);
      expect(out).toContain('bot> Weather for Paris, France — next 2 day(s):');
      // the server stopped with the conversation
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 90_000);
});
