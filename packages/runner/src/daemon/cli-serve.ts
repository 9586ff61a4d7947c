import { redactUrl } from '@greentic/redis';
import type { Command } from 'commander';
import type { CliIO } from '../cli.js';
import {
  loadRunnerConfig,
  parseSecretRef,
  type RunnerConfig,
  type RunnerConfigInput,
  secretRefsOf,
} from '../config/config.js';
import { RunnerError } from '../errors.js';
import { startRunnerTelemetryOrFail } from '../platform/telemetry.js';
import { RunnerDaemon } from './daemon.js';
import { DAEMON_LOG_FORMAT, loggerOverPino } from './log.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Adds `greentic-runner serve` to the CLI. */
export function registerServe(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description(
      'Run the runner daemon: health and admin HTTP API, the messaging webhooks and WebChat, and (with NATS) the ingress consumer and egress worker. Stops cleanly on SIGTERM/SIGINT.',
    )
    .option('--config <file>', 'configuration file (YAML or JSON); see docs/config.md#runner-daemon')
    .option('--flow <path>', 'a .ygtc file or directory (repeatable); replaces flows.paths', collect, [])
    .option('--host <host>', 'HTTP address (http.host)')
    .option('--port <port>', 'HTTP port (http.port)')
    .option('--print-config', 'print the effective configuration as JSON (secrets hidden) and exit')
    .addHelpText(
      'after',
      `\nDefaults need nothing installed: memory stores, no NATS, HTTP on 127.0.0.1:8080. GREENTIC_RUNNER_* variables override the file (docs/config.md).\n\nFlows: flows.paths (--flow), and packs from the pack store (greentic-runner load) with a packs: section or when no flows.paths is given: a tenant's own pack wins, then flows.paths, then the default pack. POST /admin/reload (or SIGHUP) installs new pack versions: new conversations start on them, conversations in progress finish on the version they started on; with NATS the other runners of the env reload too (nats.controlSubject).\n\nTelemetry: spans are exported when OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER is set; log lines are JSON on stderr with PII redacted (PII_REDACTION_MODE).\n\nExamples:\n  greentic-runner serve --flow examples/qa-demo/flows\n  greentic-runner load --pack dist/weather.gtpack && greentic-runner serve\n  greentic-runner serve --config runner.yaml\n  GREENTIC_RUNNER_STORES=redis GREENTIC_RUNNER_NATS=on greentic-runner serve --config runner.yaml\n\nEndpoints: GET /healthz, GET /readyz, GET /admin/flows, GET /admin/packs, GET /admin/stats, POST /admin/reload; with connectors: POST /webhooks/{provider}/{id}; with webchat.enabled: GET /webchat/ (the page) and /v3/directline/*; with oauth: GET /oauth/callback, GET /.well-known/greentic-oauth, POST /oauth/start (admin token).\nSignals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the flows and packs.\nExit codes: 0 stopped cleanly, 1 startup failed (bad config, unreachable Redis/NATS, bad flow, no pack or flow to run) or turns were cut off, 2 bad usage.`,
    )
    .action(async (o) => {
      const overrides: RunnerConfigInput = {};
      if (o.flow.length > 0) overrides.flows = { paths: o.flow };
      if (o.host !== undefined || o.port !== undefined) {
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
          throw new RunnerError('GT_RUNNER_USAGE', `--port ${o.port}: must be an integer from 0 to 65535`);
        overrides.http = {
          ...(o.host !== undefined ? { host: o.host } : {}),
          ...(port !== undefined ? { port } : {}),
        };
      }
      const env = io.env ?? process.env;
      const config = loadRunnerConfig(o.config, { env, overrides });
      if (o.printConfig) {
        const shown = structuredClone(config);
        if (shown.admin.token) shown.admin.token = '***';
        shown.stores.redis.url = redactUrl(shown.stores.redis.url);
        shown.nats.url = redactUrl(shown.nats.url);
        hideLiteralSecrets(shown);
        io.stdout(`${JSON.stringify(shown, null, 2)}\n`);
        return;
      }
      // one JSON line format on stderr, PII redacted, trace ids of the active span: the platform's logger
      const telemetry = await startRunnerTelemetryOrFail({
        env,
        logLevel: config.log.level,
        pino: DAEMON_LOG_FORMAT,
        logDestination: { write: (line: string) => io.stderr(line) },
      });
      const log = loggerOverPino(telemetry.logger);
      const daemon = new RunnerDaemon({ config, log, telemetry, env });
      let signalled: NodeJS.Signals | undefined;
      const onStop = (sig: NodeJS.Signals) => {
        if (signalled) {
          log.warn(`second ${sig}: still draining`, {});
          return;
        }
        signalled = sig;
        log.info(`${sig} received`, {});
        void daemon.stop();
      };
      const onHup = () => void daemon.reload({ reason: 'SIGHUP' });
      process.on('SIGTERM', onStop);
      process.on('SIGINT', onStop);
      process.on('SIGHUP', onHup);
      try {
        await daemon.start();
        if (!signalled) {
          io.stderr(`greentic-runner serving on http://${daemon.address.host}:${daemon.address.port}\n`);
          if (daemon.webchatUrl) io.stderr(`WebChat: open ${daemon.webchatUrl} to chat in your browser\n`);
        }
        // runs until a signal stops it
        const { unfinished } = await daemon.stopped;
        if (unfinished > 0) {
          throw new RunnerError(
            'GT_RUNNER_SHUTDOWN_TIMEOUT',
            `${unfinished} turn(s) were still running after shutdown.timeoutMs (${config.shutdown.timeoutMs} ms); their messages will be redelivered`,
          );
        }
      } finally {
        process.off('SIGTERM', onStop);
        process.off('SIGINT', onStop);
        process.off('SIGHUP', onHup);
      }
    });
}

/** `--print-config`: literal secrets (allowed with secrets.allowLiterals) are shown as `***`; references as they are. */
function hideLiteralSecrets(cfg: RunnerConfig) {
  for (const { pointer, ref } of secretRefsOf(cfg)) {
    if (parseSecretRef(ref).kind === 'env' || parseSecretRef(ref).kind === 'uri') continue;
    const path = pointer.split('/').slice(1);
    let cur: unknown = cfg;
    for (const seg of path.slice(0, -1)) cur = (cur as Record<string, unknown>)[seg];
    (cur as Record<string, unknown>)[path[path.length - 1]!] = '***';
  }
}
