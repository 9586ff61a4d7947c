/**
 * End to end: the weather tool (TypeScript → Wasm with greentic-component build, cached), loaded into the sandboxed
 * component host, called by the weather flow on the flow engine, against the local forecast stand-in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildResult } from '@greentic/component-cli';
import { lintFlow, loadFlowFile } from '@greentic/flow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forecastUrl,
  geocodingUrl,
  readForecast,
  readInput,
  readPlace,
  summaryOf,
} from './components/weather/src/provider.js';
import { CITIES, forecastFor, startForecastServer } from './forecast-server.mjs';
import {
  buildWeatherTool,
  conversation,
  loadWeatherTool,
  WEATHER_FLOW,
  WEATHER_TOOL_DIR,
  weatherEngine,
} from './weather-bot.mjs';

const START = '2025-06-02';
type Server = Awaited<ReturnType<typeof startForecastServer>>;
type Loaded = Awaited<ReturnType<typeof loadWeatherTool>>;

describe('the weather flow file', () => {
  // what `greentic-flow doctor --strict` checks: the strict loader, then lint
  it('loads cleanly in strict mode and has no lint findings', () => {
    const flow = loadFlowFile(WEATHER_FLOW, { strict: true });
    expect(lintFlow(flow)).toEqual([]);
    expect(flow.nodes.forecast?.op).toBe('component.exec');
  });
});

describe('the weather tool sources', () => {
  it('type-check (tsc, with the guest library and the WIT guest types)', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    expect(() =>
      execFileSync(process.execPath, [tsc, '-p', join(WEATHER_TOOL_DIR, 'tsconfig.json')], {
        encoding: 'utf8',
      }),
    ).not.toThrow();
  });
});

describe('the weather tool provider logic (pure)', () => {
  it('reads the input with defaults and rejects bad values', () => {
    expect(readInput({ city: ' Paris ' })).toEqual({
      city: 'Paris',
      days: 3,
      baseUrl: 'https://api.open-meteo.com',
      geocodingUrl: 'https://geocoding-api.open-meteo.com',
      timeoutMs: 5000,
    });
    expect(readInput({ city: 'Paris', days: '5', base_url: 'http://127.0.0.1:9/' })).toMatchObject({
      days: 5,
      baseUrl: 'http://127.0.0.1:9',
      geocodingUrl: 'http://127.0.0.1:9',
    });
    expect(readInput({ city: 'Paris', days: '', base_url: '' }).days).toBe(3);
    expect(() => readInput({})).toThrow(/"city" is required/);
    expect(() => readInput({ city: 'Paris', days: 0 })).toThrow(/"days" must be a whole number from 1 to 16/);
    expect(() => readInput({ city: 'Paris', days: 'three' })).toThrow(/"days"/);
    expect(() => readInput({ city: 'Paris', base_url: 'ftp://x' })).toThrow(
      /"base_url" must be an http\(s\) URL/,
    );
    expect(() => readInput({ city: 'Paris', timeout_ms: -1 })).toThrow(/timeout_ms/);
  });

  it('asks Open-Meteo-style URLs and normalises the answers', () => {
    const input = readInput({ city: 'São Paulo', days: 2, base_url: 'http://h:1' });
    expect(geocodingUrl(input)).toBe(
      'http://h:1/v1/search?name=S%C3%A3o%20Paulo&count=1&language=en&format=json',
    );
    const place = { name: 'Paris', country: 'France', latitude: 48.85, longitude: 2.35 };
    expect(forecastUrl(input, place)).toBe(
      'http://h:1/v1/forecast?latitude=48.85&longitude=2.35&daily=weather_code,temperature_2m_max,temperature_2m_min&timezone=auto&forecast_days=2',
    );
    expect(readPlace({ generationtime_ms: 1 })).toBeUndefined();
    expect(readPlace({ results: [{ name: 'Paris', country: 'France', latitude: 1, longitude: 2 }] })).toEqual(
      {
        name: 'Paris',
        country: 'France',
        latitude: 1,
        longitude: 2,
      },
    );
    const body = {
      daily: {
        time: ['2025-06-02', '2025-06-03'],
        temperature_2m_min: [9.44, 10],
        temperature_2m_max: [20, 21.06],
        weather_code: [61, 7],
      },
    };
    expect(readForecast(body, place, 2)).toEqual({
      city: 'Paris',
      country: 'France',
      days: [
        { date: '2025-06-02', min_c: 9.4, max_c: 20, summary: 'light rain' },
        { date: '2025-06-03', min_c: 10, max_c: 21.1, summary: 'unknown' },
      ],
    });
    expect(readForecast({ daily: { time: ['x'] } }, place, 1)).toBeUndefined();
    expect(summaryOf(95)).toBe('thunderstorm');
  });
});

describe('the local forecast stand-in', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startForecastServer({ startDate: START });
  });
  afterAll(() => server.close());

  it('answers geocoding and forecasts like Open-Meteo, deterministically', async () => {
    const search = await (await fetch(`${server.url}/v1/search?name=paris&count=1`)).json();
    expect(search.results[0]).toMatchObject({
      name: 'Paris',
      country: 'France',
      latitude: 48.85341,
      longitude: 2.3488,
    });
    expect(await (await fetch(`${server.url}/v1/search?name=Atlantis`)).json()).toEqual({
      generationtime_ms: 0.1,
    });
    const res = await fetch(
      `${server.url}/v1/forecast?latitude=48.85341&longitude=2.3488&daily=x&forecast_days=2`,
    );
    const body = await res.json();
    expect(body.daily).toEqual(forecastFor(CITIES[0], 2, START).daily);
    expect(body.daily.time).toEqual(['2025-06-02', '2025-06-03']);
    expect((await fetch(`${server.url}/v1/forecast?latitude=1&longitude=1&forecast_days=99`)).status).toBe(
      400,
    );
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('fails on demand', async () => {
    server.setFailMode('error');
    expect((await fetch(`${server.url}/v1/search?name=Paris`)).status).toBe(500);
    server.setFailMode('not_found');
    expect(await (await fetch(`${server.url}/v1/search?name=Paris`)).json()).toEqual({
      generationtime_ms: 0.1,
    });
    server.setFailMode('none');
  });
});

describe('the weather flow with the Wasm weather tool', () => {
  let built: BuildResult;
  let loaded: Loaded;
  let server: Server;
  let failing: Server;
  let outDir: string;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'weather-demo-test-'));
    // Cached: only the first run (or a run after the tool, the WIT or the toolchain changed) runs ComponentizeJS.
    built = await buildWeatherTool({ outDir });
    loaded = await loadWeatherTool(built);
    server = await startForecastServer({ startDate: START, slowMs: 10_000 });
    failing = await startForecastServer({ startDate: START, failMode: 'error' });
  }, 180_000);

  afterAll(async () => {
    await loaded?.host.close();
    await server?.close();
    await failing?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('builds a greentic:component/tool@0.6.0 component', () => {
    expect(built.world).toBe('greentic:component/tool@0.6.0');
    expect(built.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(loaded.component.world).toBe('tool');
    // the policy comes from the manifest's x-greentic.network, read by the host itself
    expect(loaded.component.network?.egress.domains).toContain('127.0.0.1');
    expect(loaded.component.network?.deny_on_miss).toBe(true);
  });

  it('asks for the city on /weather, then answers with the forecast', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: server.url });
    const say = conversation(engine);
    const first = await say('/weather');
    expect(first.status).toBe('pending');
    expect(first.texts).toEqual([
      "Hi! I'm the Greentic weather bot.",
      'Which city would you like a forecast for?',
    ]);
    expect((await say('Paris')).texts).toEqual(["For how many days? (1-7, or 'skip' for 3)"]);
    const done = await say('2');
    expect(done.status).toBe('done');
    expect(done.trail).toEqual(['ask', 'forecast', 'report']);
    expect(done.texts).toEqual([
      'Weather for Paris, France — next 2 day(s):\n' +
        '- 2025-06-02: mainly clear, 12–21 °C\n' +
        '- 2025-06-03: overcast, 13.4–23.1 °C\n' +
        'Send /weather to check another city.',
    ]);
    expect(server.requests.slice(-2).map((r) => r.path.split('?')[0])).toEqual([
      '/v1/search',
      '/v1/forecast',
    ]);
  });

  it('uses the default number of days from the flow parameters when the user skips', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: server.url });
    const say = conversation(engine, { conversation: 'skip' });
    await say('/weather');
    await say('new york');
    const done = await say('skip');
    expect(done.texts[0]).toMatch(
      /^Weather for New York, United States — next 3 day\(s\):\n(- 2025-06-0[234]: .+\n){3}/,
    );
  });

  it('says so when the city is unknown', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: server.url });
    const say = conversation(engine, { conversation: 'unknown' });
    await say('/weather');
    await say('Atlantis');
    const done = await say('skip');
    expect(done.status).toBe('done');
    expect(done.trail).toEqual(['ask', 'forecast', 'unknown_city']);
    expect(done.texts).toEqual([
      'Sorry, I couldn\'t find a place called "Atlantis". Check the spelling and send /weather to try again.',
    ]);
  });

  it('answers with a useful message when the provider fails (HTTP 500)', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: failing.url });
    const say = conversation(engine, { conversation: 'fail' });
    await say('/weather');
    await say('Berlin');
    const done = await say('1');
    expect(done.trail).toEqual(['ask', 'forecast', 'unavailable']);
    expect(done.texts[0]).toBe(
      "The weather service is unavailable at the moment, so I can't get a forecast. Please try again later (/weather).",
    );
    expect(failing.requests.at(-1)?.status).toBe(500);
  });

  it('answers with a useful message when the provider is too slow (timeout)', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: server.url, timeoutMs: 400 });
    const say = conversation(engine, { conversation: 'slow' });
    await say('/weather');
    await say('Slowville');
    const done = await say('1');
    expect(done.trail).toEqual(['ask', 'forecast', 'too_slow']);
    expect(done.texts[0]).toMatch(/^The weather service is taking too long to answer right now/);
  });

  it('routes a network-policy denial: the tool may not reach a host its manifest does not list', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: 'http://weather.example.net' });
    const say = conversation(engine, { conversation: 'denied' });
    await say('/weather');
    await say('Paris');
    const done = await say('1');
    expect(done.trail).toEqual(['ask', 'forecast', 'not_allowed']);
    expect(done.texts[0]).toMatch(/network policy blocks it/);
  });

  it('routes bad input from the flow to its own message', async () => {
    const { engine } = weatherEngine(loaded.registry, { baseUrl: 'not a url' });
    const say = conversation(engine, { conversation: 'bad' });
    await say('/weather');
    await say('Paris');
    const done = await say('1');
    expect(done.trail).toEqual(['ask', 'forecast', 'bad_question']);
    expect(done.texts[0]).toMatch(/^I couldn't ask for that forecast: "base_url" must be an http\(s\) URL/);
  });
});
