/**
 * The Open-Meteo side of the weather tool, as pure functions (no host calls): which URLs to ask, and how to turn
 * the answers into the tool's output. `index.ts` sends the requests through the host's HTTP import.
 *
 * Open-Meteo (https://open-meteo.com, no API key) has two services: geocoding at
 * `https://geocoding-api.open-meteo.com/v1/search?name=…` and forecasts at `https://api.open-meteo.com/v1/forecast`.
 * A provider given by one base URL (the demo's local stand-in) serves both paths.
 */

export const OPEN_METEO_FORECAST = 'https://api.open-meteo.com';
export const OPEN_METEO_GEOCODING = 'https://geocoding-api.open-meteo.com';
export const DEFAULT_DAYS = 3;
export const MAX_DAYS = 16;

export interface ForecastInput {
  city: string;
  days: number;
  /** Forecast service base URL; also the geocoding base unless `geocodingUrl` is given. */
  baseUrl: string;
  geocodingUrl: string;
  timeoutMs: number;
}

export interface ForecastDay {
  date: string;
  min_c: number;
  max_c: number;
  summary: string;
}

export interface Forecast {
  city: string;
  country: string;
  days: ForecastDay[];
}

export interface Place {
  name: string;
  country: string;
  latitude: number;
  longitude: number;
}

/** A problem with the input, reported as `invalid_input`. */
export class InputProblem extends Error {}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * Reads the operation's input: `{city, days?, base_url?, geocoding_url?, timeout_ms?}`. `days` may be a number or a
 * numeric string (flow templates render text); empty strings and null mean "use the default".
 */
export function readInput(raw: unknown): ForecastInput {
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const city = typeof input.city === 'string' ? input.city.trim() : '';
  if (city === '') throw new InputProblem('"city" is required: the name of a place, e.g. "Paris"');
  if (city.length > 100) throw new InputProblem('"city" is too long (at most 100 characters)');
  let days = DEFAULT_DAYS;
  if (input.days !== undefined && input.days !== null && input.days !== '') {
    const n = typeof input.days === 'number' ? input.days : Number(String(input.days).trim());
    if (!Number.isInteger(n) || n < 1 || n > MAX_DAYS) {
      throw new InputProblem(
        `"days" must be a whole number from 1 to ${MAX_DAYS} (got ${JSON.stringify(input.days)})`,
      );
    }
    days = n;
  }
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? trimSlash(v.trim()) : undefined);
  const baseUrl = text(input.base_url) ?? OPEN_METEO_FORECAST;
  for (const [k, v] of [
    ['base_url', baseUrl],
    ['geocoding_url', text(input.geocoding_url)],
  ] as const) {
    if (v !== undefined && !/^https?:\/\/[^/\s]+/.test(v))
      throw new InputProblem(`"${k}" must be an http(s) URL (got "${v}")`);
  }
  // The real Open-Meteo answers geocoding on its own host; any other provider serves both paths on one base.
  const geocodingUrl =
    text(input.geocoding_url) ?? (baseUrl === OPEN_METEO_FORECAST ? OPEN_METEO_GEOCODING : baseUrl);
  const timeout =
    input.timeout_ms === undefined || input.timeout_ms === null ? 5000 : Number(input.timeout_ms);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60_000) {
    throw new InputProblem('"timeout_ms" must be a whole number of milliseconds from 1 to 60000');
  }
  return { city, days, baseUrl, geocodingUrl, timeoutMs: timeout };
}

export function geocodingUrl(input: ForecastInput): string {
  return `${input.geocodingUrl}/v1/search?name=${encodeURIComponent(input.city)}&count=1&language=en&format=json`;
}

export function forecastUrl(input: ForecastInput, place: Place): string {
  return (
    `${input.baseUrl}/v1/forecast?latitude=${place.latitude}&longitude=${place.longitude}` +
    `&daily=weather_code,temperature_2m_max,temperature_2m_min&timezone=auto&forecast_days=${input.days}`
  );
}

/** The first match of a geocoding answer, or undefined when the place is unknown. */
export function readPlace(body: unknown): Place | undefined {
  const results = (body as { results?: unknown })?.results;
  if (!Array.isArray(results) || results.length === 0) return undefined;
  const r = results[0] as Record<string, unknown>;
  if (typeof r.latitude !== 'number' || typeof r.longitude !== 'number') return undefined;
  return {
    name: typeof r.name === 'string' ? r.name : '?',
    country:
      typeof r.country === 'string' ? r.country : typeof r.country_code === 'string' ? r.country_code : '',
    latitude: r.latitude,
    longitude: r.longitude,
  };
}

/** WMO weather interpretation codes (what Open-Meteo's `weather_code` holds). */
const WMO: Record<number, string> = {
  0: 'clear sky',
  1: 'mainly clear',
  2: 'partly cloudy',
  3: 'overcast',
  45: 'fog',
  48: 'freezing fog',
  51: 'light drizzle',
  53: 'drizzle',
  55: 'dense drizzle',
  56: 'light freezing drizzle',
  57: 'freezing drizzle',
  61: 'light rain',
  63: 'rain',
  65: 'heavy rain',
  66: 'light freezing rain',
  67: 'freezing rain',
  71: 'light snow',
  73: 'snow',
  75: 'heavy snow',
  77: 'snow grains',
  80: 'light showers',
  81: 'showers',
  82: 'violent showers',
  85: 'light snow showers',
  86: 'snow showers',
  95: 'thunderstorm',
  96: 'thunderstorm with hail',
  99: 'thunderstorm with heavy hail',
};

export function summaryOf(code: unknown): string {
  return typeof code === 'number' && WMO[code] !== undefined ? WMO[code] : 'unknown';
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Normalises a forecast answer (`daily.time`, `temperature_2m_min/max`, `weather_code`); undefined when malformed. */
export function readForecast(body: unknown, place: Place, days: number): Forecast | undefined {
  const daily = (body as { daily?: Record<string, unknown> })?.daily;
  if (!daily || !Array.isArray(daily.time)) return undefined;
  const min = daily.temperature_2m_min;
  const max = daily.temperature_2m_max;
  const codes = Array.isArray(daily.weather_code) ? daily.weather_code : daily.weathercode;
  if (!Array.isArray(min) || !Array.isArray(max)) return undefined;
  const out: ForecastDay[] = [];
  for (let i = 0; i < Math.min(daily.time.length, days); i++) {
    const lo = min[i];
    const hi = max[i];
    if (typeof daily.time[i] !== 'string' || typeof lo !== 'number' || typeof hi !== 'number')
      return undefined;
    out.push({
      date: daily.time[i] as string,
      min_c: round1(lo),
      max_c: round1(hi),
      summary: summaryOf(Array.isArray(codes) ? codes[i] : undefined),
    });
  }
  return { city: place.name, country: place.country, days: out };
}
