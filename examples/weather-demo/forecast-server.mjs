// A LOCAL STAND-IN for the Open-Meteo weather API (https://open-meteo.com), for the weather demo and its tests: no
// internet needed, deterministic answers. It serves the two endpoints the weather tool uses, in Open-Meteo's shapes:
//   GET /v1/search?name=<city>&count=1          geocoding: {results: [{name, country, latitude, longitude, …}]}
//   GET /v1/forecast?latitude=…&longitude=…&daily=weather_code,temperature_2m_max,temperature_2m_min
//       &timezone=auto&forecast_days=N          daily forecast: {daily: {time, weather_code, temperature_2m_max, …}}
// for a fixed set of cities (CITIES below). Unknown cities get an answer without `results`, like the real service.
//
// Error modes, for trying the flow's error branches:
//   failMode 'error'     every request answers HTTP 500
//   failMode 'slow'      every request answers after `slowMs` (default 30 s): the tool times out first
//   failMode 'not_found' geocoding finds nothing
//   city "Crashtown"     found, but its forecast answers HTTP 500
//   city "Slowville"     found, but its forecast answers after `slowMs`
//
// Run it alone:  node examples/weather-demo/forecast-server.mjs [port]
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The cities the stand-in knows: [name, country, country code, latitude, longitude, timezone, base min °C, base max °C, weather codes]. */
export const CITIES = [
  ['Paris', 'France', 'FR', 48.85341, 2.3488, 'Europe/Paris', 12, 21, [1, 3, 61, 2, 0, 80, 3]],
  ['London', 'United Kingdom', 'GB', 51.50853, -0.12574, 'Europe/London', 10, 18, [3, 61, 63, 2, 3, 80, 1]],
  ['Berlin', 'Germany', 'DE', 52.52437, 13.41053, 'Europe/Berlin', 9, 20, [2, 0, 1, 95, 3, 61, 2]],
  ['Brussels', 'Belgium', 'BE', 50.85045, 4.34878, 'Europe/Brussels', 11, 19, [3, 61, 2, 1, 80, 3, 0]],
  ['Lisbon', 'Portugal', 'PT', 38.71667, -9.13333, 'Europe/Lisbon', 16, 27, [0, 0, 1, 2, 0, 1, 3]],
  ['Tokyo', 'Japan', 'JP', 35.6895, 139.69171, 'Asia/Tokyo', 20, 28, [1, 2, 63, 81, 3, 2, 0]],
  [
    'New York',
    'United States',
    'US',
    40.71427,
    -74.00597,
    'America/New_York',
    17,
    26,
    [0, 2, 3, 95, 61, 1, 0],
  ],
  ['Sydney', 'Australia', 'AU', -33.86785, 151.20732, 'Australia/Sydney', 8, 17, [1, 1, 2, 61, 3, 0, 2]],
  ['Crashtown', 'Nowhere', 'ZZ', 10.5, 10.5, 'UTC', 0, 1, [0]],
  ['Slowville', 'Nowhere', 'ZZ', 11.5, 11.5, 'UTC', 0, 1, [0]],
].map(([name, country, country_code, latitude, longitude, timezone, min, max, codes], i) => ({
  id: 1000 + i,
  name,
  country,
  country_code,
  latitude,
  longitude,
  timezone,
  min,
  max,
  codes,
}));

const DAY_MS = 86_400_000;
// Day-to-day variation, the same for every run.
const WOBBLE = [0, 1.4, -0.9, 0.6, 2.2, -1.7, 0.3, 1.1, -0.4, 0.8, -1.2, 1.9, 0.2, -0.6, 1.5, -0.3];

const fold = (s) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase();

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

/** Open-Meteo-shaped daily forecast for a city, `days` days from `startDate` (YYYY-MM-DD). */
export function forecastFor(city, days, startDate) {
  const start = Date.parse(`${startDate}T00:00:00Z`);
  const time = [];
  const max = [];
  const min = [];
  const code = [];
  for (let i = 0; i < days; i++) {
    time.push(new Date(start + i * DAY_MS).toISOString().slice(0, 10));
    const w = WOBBLE[i % WOBBLE.length];
    min.push(Math.round((city.min + w) * 10) / 10);
    max.push(Math.round((city.max + w * 1.5) * 10) / 10);
    code.push(city.codes[i % city.codes.length]);
  }
  return {
    latitude: city.latitude,
    longitude: city.longitude,
    generationtime_ms: 0.1,
    utc_offset_seconds: 0,
    timezone: city.timezone,
    timezone_abbreviation: 'GMT',
    elevation: 40,
    daily_units: {
      time: 'iso8601',
      weather_code: 'wmo code',
      temperature_2m_max: '°C',
      temperature_2m_min: '°C',
    },
    daily: { time, weather_code: code, temperature_2m_max: max, temperature_2m_min: min },
  };
}

/**
 * Starts the stand-in provider.
 * @param {{port?: number, host?: string, latencyMs?: number, failMode?: 'none'|'error'|'slow'|'not_found',
 *   slowMs?: number, startDate?: string}} [options]
 *   `startDate`: first forecast day (YYYY-MM-DD, default today in UTC); `latencyMs`: added to every answer.
 * @returns {Promise<{url: string, host: string, port: number, requests: {method: string, path: string, status: number}[],
 *   setFailMode(mode: 'none'|'error'|'slow'|'not_found'): void, close(): Promise<void>}>}
 */
export async function startForecastServer(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const slowMs = options.slowMs ?? 30_000;
  let failMode = options.failMode ?? 'none';
  const requests = [];
  const sockets = new Set();
  const timers = new Set();

  const later = (ms, fn) => {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const log = { method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, status: 0 };
    requests.push(log);
    const send = (status, body, delay = 0) =>
      later((options.latencyMs ?? 0) + delay, () => {
        log.status = status;
        if (!res.destroyed) json(res, status, body);
      });

    if (req.method !== 'GET') return send(405, { error: true, reason: 'only GET is supported' });
    if (failMode === 'error')
      return send(500, { error: true, reason: 'internal error (stand-in fail mode "error")' });
    const delay = failMode === 'slow' ? slowMs : 0;

    if (url.pathname === '/v1/search') {
      const name = url.searchParams.get('name') ?? '';
      if (name.trim() === '') return send(400, { error: true, reason: 'Parameter name is required' }, delay);
      const hit = failMode === 'not_found' ? undefined : CITIES.find((c) => fold(c.name) === fold(name));
      if (!hit) return send(200, { generationtime_ms: 0.1 }, delay);
      const { id, name: n, latitude, longitude, country, country_code, timezone } = hit;
      return send(
        200,
        {
          results: [{ id, name: n, latitude, longitude, country, country_code, timezone }],
          generationtime_ms: 0.2,
        },
        delay,
      );
    }

    if (url.pathname === '/v1/forecast') {
      const lat = Number(url.searchParams.get('latitude'));
      const lon = Number(url.searchParams.get('longitude'));
      const days = Number(url.searchParams.get('forecast_days') ?? '7');
      if (!Number.isFinite(lat) || !Number.isFinite(lon) || url.searchParams.get('latitude') === null) {
        return send(400, { error: true, reason: 'Parameter latitude and longitude are required' }, delay);
      }
      if (!Number.isInteger(days) || days < 1 || days > 16) {
        return send(400, { error: true, reason: 'Parameter forecast_days must be between 1 and 16' }, delay);
      }
      const city = CITIES.find(
        (c) => Math.abs(c.latitude - lat) < 0.01 && Math.abs(c.longitude - lon) < 0.01,
      );
      if (!city)
        return send(400, { error: true, reason: 'the stand-in has no data for this location' }, delay);
      if (city.name === 'Crashtown')
        return send(500, { error: true, reason: 'internal error (Crashtown)' }, delay);
      const cityDelay = city.name === 'Slowville' ? slowMs : delay;
      return send(200, forecastFor(city, days, options.startDate ?? todayUtc()), cityDelay);
    }

    return send(404, { error: true, reason: `no such endpoint ${url.pathname}` });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    host,
    port,
    requests,
    setFailMode(mode) {
      failMode = mode;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startForecastServer({ port: Number(process.argv[2] ?? 0) });
  console.log(`Local forecast stand-in (NOT the real Open-Meteo) listening on ${server.url}`);
  console.log(`  try: curl '${server.url}/v1/search?name=Paris'`);
  console.log(`  cities: ${CITIES.map((c) => c.name).join(', ')}`);
}
