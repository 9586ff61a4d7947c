#!/usr/bin/env node
// The weather demo in the terminal:
//   node examples/weather-demo/demo.mjs            (after `npm run setup`; or `npm run demo` once the lead wires it)
// 1. starts the LOCAL STAND-IN forecast service (forecast-server.mjs) — or, with GREENTIC_WEATHER_BASE_URL set, uses
//    that provider instead (e.g. https://api.open-meteo.com when online);
// 2. builds the weather tool (TypeScript → Wasm component, cached) and loads it into the sandboxed component host;
// 3. chats with the weather flow (flows/weather.ygtc): type a city, then a number of days. /quit leaves.
import { createInterface } from 'node:readline';
import { formatSize } from '@greentic/component-cli';
import { startForecastServer } from './forecast-server.mjs';
import { buildWeatherTool, conversation, loadWeatherTool, weatherEngine } from './weather-bot.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`Usage: node examples/weather-demo/demo.mjs [--start <text>] [--port <n>]

Chats with the Greentic weather flow, whose weather tool is a TypeScript Wasm component calling a forecast service
through the host's HTTP import.

  --start <text>  first message sent for you (default "/weather"; "" to type it yourself)
  --port <n>      port of the local stand-in forecast service (default: any free port)

Environment:
  GREENTIC_WEATHER_BASE_URL  use this Open-Meteo-style provider instead of the local stand-in,
                             e.g. https://api.open-meteo.com (the real service: needs internet, no API key)
`);
  process.exit(0);
}

const err = (s) => process.stderr.write(s);
const external = process.env.GREENTIC_WEATHER_BASE_URL?.trim();
let server;
let baseUrl = external;
if (external) {
  err(`Weather provider: ${external} (from GREENTIC_WEATHER_BASE_URL)\n`);
} else {
  server = await startForecastServer({ port: Number(opt('--port', '0')) });
  baseUrl = server.url;
  err(
    `Weather provider: LOCAL STAND-IN at ${server.url} (examples/weather-demo/forecast-server.mjs) — fixed sample data,\n` +
      '  not real weather. It knows Paris, London, Berlin, Brussels, Lisbon, Tokyo, New York and Sydney;\n' +
      '  "Crashtown" makes it fail (HTTP 500), "Slowville" makes it too slow, any other city is not found.\n' +
      '  Online? Use the real Open-Meteo: GREENTIC_WEATHER_BASE_URL=https://api.open-meteo.com node examples/weather-demo/demo.mjs\n',
  );
}

let loaded;
const shutdown = async () => {
  await loaded?.host.close();
  await server?.close();
};

try {
  err(
    'Building the weather tool (greentic-component build; the first build takes ~10 s, later ones come from the cache)…\n',
  );
  const built = await buildWeatherTool({ onProgress: (line) => err(`  ${line}\n`) });
  err(
    `  ${built.cached ? 'cached' : 'built'} ${built.wasmPath} (${formatSize(built.size)}, ${built.sha256.slice(0, 19)}…)\n`,
  );
  loaded = await loadWeatherTool(built);
} catch (e) {
  err(`error: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? e}\n`);
  await shutdown();
  process.exit(1);
}

const { engine } = weatherEngine(loaded.registry, { baseUrl });
const say = conversation(engine, { tenant: 'demo', conversation: 'terminal' });
const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);

const send = async (text) => {
  const r = await say(text);
  for (const t of r.texts) process.stdout.write(`bot> ${t.replace(/\n/g, '\nbot> ')}\n`);
  for (const w of r.warnings) err(`warning: ${w}\n`);
  if (r.status === 'error') err(`error ${r.error?.code}: ${r.error?.message}\n`);
  if (r.status === 'done') err('(conversation finished — type anything, e.g. /weather, to start again)\n');
};

err('Chatting with flow "weather" (examples/weather-demo/flows/weather.ygtc). /quit to leave.\n');
const start = opt('--start', '/weather');
if (start) {
  if (!tty) process.stdout.write(`you> ${start}\n`);
  await send(start);
}
const rl = createInterface({ input: process.stdin, terminal: false });
if (tty) process.stdout.write('you> ');
for await (const line of rl) {
  const text = line.trim();
  if (!tty) process.stdout.write(`you> ${line}\n`);
  if (text === '/quit' || text === '/exit') break;
  await send(line);
  if (tty) process.stdout.write('you> ');
}
rl.close();
await shutdown();
