/**
 * The weather tool: a Greentic component (world `greentic:component/tool@0.6.0`) written in TypeScript and built
 * into Wasm by `greentic-component build`. One operation, `forecast {city, days?}`: it geocodes the city and fetches
 * a daily forecast from an Open-Meteo-style provider through the host's HTTP import (the host only lets it reach the
 * hosts its manifest's network policy lists), and returns `{city, country, days: [{date, min_c, max_c, summary}]}`.
 *
 * Failures are typed node errors a flow can route on (`prev.error.code`): `invalid_input`, `not_found` (no such
 * place), `unavailable` (provider error or unreadable answer), `timeout` (the provider did not answer in time).
 */
import { defineComponent, fail, HostCallError, http, log } from '@greentic/component-cli/guest';
import {
  type ForecastInput,
  forecastUrl,
  geocodingUrl,
  InputProblem,
  MAX_DAYS,
  type Place,
  readForecast,
  readInput,
  readPlace,
} from './provider.js';

function getJson(url: string, input: ForecastInput, what: string): unknown {
  let res: ReturnType<typeof http.fetch>;
  try {
    res = http.fetch(url, { timeoutMs: input.timeoutMs, headers: { accept: 'application/json' } });
  } catch (e) {
    if (e instanceof HostCallError && e.code === 'timeout') {
      fail(
        'timeout',
        `the weather provider did not answer the ${what} request within ${input.timeoutMs} ms`,
        {
          retryable: true,
        },
      );
    }
    const reason = e instanceof Error ? e.message : String(e);
    fail('unavailable', `the weather provider could not be reached for the ${what} request (${reason})`, {
      retryable: true,
    });
  }
  if (res.status === 429)
    fail('rate_limited', `the weather provider is rate limiting requests (${what})`, { retryable: true });
  if (res.status >= 500) {
    fail('unavailable', `the weather provider failed the ${what} request with HTTP ${res.status}`, {
      retryable: true,
    });
  }
  if (res.status !== 200) {
    fail(
      'unavailable',
      `the weather provider answered the ${what} request with HTTP ${res.status}: ${res.text().slice(0, 200)}`,
    );
  }
  return res.json();
}

const daySchema = {
  type: 'object',
  required: ['date', 'min_c', 'max_c', 'summary'],
  properties: {
    date: { type: 'string', description: 'YYYY-MM-DD, local to the place' },
    min_c: { type: 'number' },
    max_c: { type: 'number' },
    summary: { type: 'string', description: 'e.g. "light rain" (from the WMO weather code)' },
  },
};

export const node = defineComponent({
  name: 'weather',
  version: '0.1.0',
  summary: 'Daily weather forecasts for a city from an Open-Meteo-style provider',
  capabilities: ['http'],
  ops: {
    forecast: {
      summary: 'Geocodes a city and returns its daily forecast',
      input_schema: {
        type: 'object',
        required: ['city'],
        properties: {
          city: { type: 'string', minLength: 1 },
          days: { type: ['integer', 'string', 'null'], minimum: 1, maximum: MAX_DAYS, default: 3 },
          base_url: { type: 'string', description: 'provider base URL (default https://api.open-meteo.com)' },
          geocoding_url: {
            type: 'string',
            description: 'geocoding base URL (default: base_url, or Open-Meteo’s)',
          },
          timeout_ms: { type: 'integer', minimum: 1, maximum: 60000, default: 5000 },
        },
      },
      output_schema: {
        type: 'object',
        required: ['city', 'country', 'days'],
        properties: {
          city: { type: 'string' },
          country: { type: 'string' },
          days: { type: 'array', items: daySchema },
        },
      },
      run(raw: unknown) {
        let input: ForecastInput;
        try {
          input = readInput(raw);
        } catch (e) {
          if (e instanceof InputProblem) fail('invalid_input', e.message);
          throw e;
        }
        const place: Place | undefined = readPlace(getJson(geocodingUrl(input), input, 'geocoding'));
        if (!place) fail('not_found', `no place called "${input.city}" was found`);
        const forecast = readForecast(
          getJson(forecastUrl(input, place), input, 'forecast'),
          place,
          input.days,
        );
        if (!forecast) fail('unavailable', 'the weather provider sent a forecast this tool cannot read');
        log({ event: 'forecast', city: forecast.city, days: forecast.days.length });
        return forecast;
      },
    },
  },
});
