/**
 * The upstream weather_bot flow's `templating.handlebars` text (from the shared conformance corpus, see
 * `../shared/conformance/README.md`) rendered against sample WeatherAPI-like data.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ExpressionScope } from '../scope.js';
import { compileTemplate, renderValue } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const fixture = path.resolve(
  repoRoot,
  '..',
  'shared',
  'conformance',
  'flows',
  'greenticai__greentic-flow__fixtures__weather_bot.ygtc',
);

if (!existsSync(fixture)) {
  throw new Error(
    `conformance fixture not found: ${fixture} (the shared directory sits next to the repository)`,
  );
}

const flow = parse(readFileSync(fixture, 'utf8')) as {
  nodes: { weather_text: { 'templating.handlebars': { text: string } } };
  parameters: Record<string, unknown>;
};
const text = flow.nodes.weather_text['templating.handlebars'].text;

const forecast = {
  location: { name: 'London', country: 'United Kingdom' },
  current: { condition: { text: 'Partly cloudy' }, temp_c: 14.2, wind_kph: 11.2, humidity: 72 },
  forecast: [
    { date: '2024-06-01', day: { maxtemp_c: 17.1, mintemp_c: 9.4, condition: { text: 'Light rain' } } },
    { date: '2024-06-02', day: { maxtemp_c: 19, mintemp_c: 10.5, condition: { text: 'Sunny' } } },
  ],
};

function scopeWith(output: unknown): ExpressionScope {
  return {
    entry: { input: { text: 'London' } },
    prev: output,
    node: { in: { q_location: 'London' }, forecast_weather: output },
    state: {},
    parameters: flow.parameters,
  };
}

const expected = `Weather for London, United Kingdom:

Now: Partly cloudy, 14.2°C
Wind: 11.2 kph | Humidity: 72%

Forecast (next 3 day(s)):
- 2024-06-01: ↑ 17.1°C | ↓ 9.4°C — Light rain
- 2024-06-02: ↑ 19°C | ↓ 10.5°C — Sunny

Thanks! Type /start to check another city.
`;

describe('the upstream weather_bot template', () => {
  it('renders the forecast of a node output read through the .payload alias', () => {
    const r = renderValue({ text }, scopeWith(forecast), { strict: true });
    expect(r.value).toEqual({ text: expected });
    expect(r.warnings).toEqual([]);
  });

  it('renders the same when the node output has its own payload', () => {
    const r = renderValue({ text }, scopeWith({ payload: forecast }), { strict: true });
    expect(r.value).toEqual({ text: expected });
  });

  it('warns about every missing field when the data lacks them (WeatherAPI nests days in forecastday)', () => {
    const raw = { ...forecast, current: { temp_c: 14.2 }, forecast: { forecastday: forecast.forecast } };
    const r = compileTemplate({ text }).render(scopeWith(raw));
    expect(r.warnings.map((w) => w.path)).toEqual([
      'forecast_weather.payload.current.condition.text',
      'forecast_weather.payload.current.wind_kph',
      'forecast_weather.payload.current.humidity',
      'date',
      'day.maxtemp_c',
      'day.mintemp_c',
      'day.condition.text',
    ]);
    expect(r.warnings.every((w) => w.pointer === '/text')).toBe(true);
    expect(r.warnings[3]).toMatchObject({ line: 8, column: 5 });
    expect(r.value).toEqual({
      text: expected
        .replace('Partly cloudy', '')
        .replace('11.2', '')
        .replace('72', '')
        .replace(/- 2024-06-01.*\n- 2024-06-02.*\n/, '- : ↑ °C | ↓ °C — \n'),
    });
  });
});
