#!/usr/bin/env node
// The weather demo, in your browser and in the terminal at once:
//   node examples/weather-demo/demo.mjs            (after `npm run setup`; `npm run demo` does both)
// 1. starts the LOCAL STAND-IN forecast service (forecast-server.mjs) — or, with GREENTIC_WEATHER_BASE_URL set, uses
//    that provider instead (e.g. https://api.open-meteo.com when online);
// 2. builds the weather tool (TypeScript → Wasm component, cached) and loads it into the sandboxed component host;
// 3. starts the runner daemon in this process (memory stores, no NATS) serving the weather flow (flows/weather.ygtc)
//    on the WebChat page — it prints the URL to open — and chats with the same flow here: type a city, then a number
//    of days. /quit leaves and stops the server (so does the end of piped input, or Ctrl-C).
import { createInterface } from 'node:readline';
import { formatSize } from '@greentic/component-cli';
import { startForecastServer } from './forecast-server.mjs';
import {
  buildWeatherTool,
  conversation,
  loadWeatherTool,
  startWeatherRunner,
  weatherEngine,
} from './weather-bot.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`Usage: node examples/weather-demo/demo.mjs [--start <text>] [--port <n>] [--web-port <n>] [--no-web | --web-only]

Chats with the Greentic weather flow, whose weather tool is a TypeScript Wasm component calling a forecast service
through the host's HTTP import — in your browser (WebChat, served by the runner daemon in this process) and in
this terminal, both at once.

  --start <text>    first terminal message sent for you (default "/weather"; "" to type it yourself)
  --port <n>        port of the local stand-in forecast service (default: any free port)
  --web-port <n>    port of the WebChat page (default 8080, or any free port when 8080 is taken; 0: any free port)
  --host <addr>     address the WebChat server listens on (default 127.0.0.1)
  --no-web          the terminal conversation only (no server)
  --web-only        the WebChat page only: no terminal conversation; Ctrl-C stops it

Environment:
  GREENTIC_WEATHER_BASE_URL  use this Open-Meteo-style provider instead of the local stand-in,
                             e.g. https://api.open-meteo.com (the real service: needs internet, no API key)
`);
  process.exit(0);
}
const web = !args.includes('--no-web');
const terminal = !args.includes('--web-only');

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

/** The daemon's log, for a person: warnings and errors only, one line each. */
const log = {
  debug() {},
  info() {},
  warn: (msg, fields) => err(`runner: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`),
  error: (msg, fields) => err(`runner error: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`),
};

let loaded;
let daemon;
/** What the terminal conversation talks to: the daemon's engine, or (--no-web) an engine of its own. */
let chatEngine;
const shutdown = async () => {
  await daemon?.stop();
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
  if (web) {
    const host = opt('--host', '127.0.0.1');
    const port = Number(opt('--web-port', '8080'));
    try {
      daemon = await startWeatherRunner(loaded.registry, { baseUrl, host, port, log });
    } catch (e) {
      // the default port is taken: any free one will do
      if (
        e?.code !== 'GT_RUNNER_CONFIG' ||
        !/cannot listen/.test(e.message) ||
        opt('--web-port') !== undefined
      )
        throw e;
      daemon = await startWeatherRunner(loaded.registry, { baseUrl, host, port: 0, log });
    }
    chatEngine = daemon;
  } else {
    chatEngine = weatherEngine(loaded.registry, { baseUrl }).engine;
  }
} catch (e) {
  err(`error: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? e}\n`);
  await shutdown();
  process.exit(1);
}

if (daemon) {
  const line = `Open ${daemon.webchatUrl} to chat in your browser`;
  const bar = '─'.repeat(line.length + 2);
  err(`\n  ┌${bar}┐\n  │ ${line} │\n  └${bar}┘\n\n`);
}

let stopping = false;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  await shutdown();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

if (!terminal) {
  err('Serving the WebChat page only (--web-only). Ctrl-C stops it.\n');
} else {
  const say = conversation(chatEngine, { tenant: 'demo', conversation: 'terminal' });
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);

  const send = async (text) => {
    const r = await say(text);
    for (const t of r.texts) process.stdout.write(`bot> ${t.replace(/\n/g, '\nbot> ')}\n`);
    for (const w of r.warnings) err(`warning: ${w}\n`);
    if (r.status === 'error') err(`error ${r.error?.code}: ${r.error?.message}\n`);
    if (r.status === 'done') err('(conversation finished — type anything, e.g. /weather, to start again)\n');
  };

  err(
    `Chatting with flow "weather" (examples/weather-demo/flows/weather.ygtc) here too. /quit to leave${daemon ? ' (stops the server)' : ''}.\n`,
  );
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
  await stop(0);
}
