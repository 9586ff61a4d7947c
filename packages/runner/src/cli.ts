import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { FlowError, type FlowIR, loadFlowFile } from '@greentic/flow';
import { PackError } from '@greentic/pack';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import type { GreenticTracer } from '@greentic/telemetry';
import { Command, CommanderError } from 'commander';
import { registerServe } from './daemon/cli-serve.js';
import { FlowEngine, type TurnResult } from './engine/engine.js';
import { RunnerError } from './errors.js';
import { envelopeFromInput } from './input.js';
import { registerLoad } from './packs/cli-load.js';
import { type PackEngine, packEngine } from './packs/run.js';
import { resolvePackSettings } from './packs/settings.js';
import { createPlatform, type RunnerPlatform } from './platform/platform.js';
import { type RunnerTelemetry, startRunnerTelemetryOrFail } from './platform/telemetry.js';

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin?: Readable;
  isTTY?: boolean;
  /** Environment (GREENTIC_HOME, GREENTIC_ENV, …); default `process.env`. */
  env?: Record<string, string | undefined>;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Loads every flow named by `--flow` (files, or directories of `.ygtc` files). The first is the entry flow. */
function loadFlows(paths: string[]): FlowIR[] {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch {
      throw new RunnerError('GT_RUNNER_USAGE', `--flow ${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(abs).sort()) if (f.endsWith('.ygtc')) files.push(join(abs, f));
    } else files.push(abs);
  }
  if (files.length === 0)
    throw new RunnerError('GT_RUNNER_USAGE', 'no flow given: pass --flow <file.ygtc|dir>');
  return files.map((f) => loadFlowFile(f));
}

function makeEngine(
  flows: FlowIR[],
  opts: { entry?: string; strictTemplates?: boolean; tracer?: GreenticTracer },
) {
  const engine = new FlowEngine({
    sessions: new MemorySessionStore(),
    state: new MemoryStateStore(),
    strictTemplates: opts.strictTemplates,
    ...(opts.tracer ? { tracer: opts.tracer } : {}),
  });
  for (const f of flows) engine.registerFlow(f);
  const entry = opts.entry ?? flows[0]!.id;
  const ir = engine.flow(entry);
  if (!ir)
    throw new RunnerError(
      'GT_RUNNER_USAGE',
      `--entry ${entry}: no loaded flow has that id (${flows.map((f) => f.id).join(', ')})`,
    );
  engine.registerFlow(ir, { default: true });
  return engine;
}

function parseInput(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // a bare word or sentence is a text message
    return raw;
  }
}

/**
 * The CLI's telemetry: spans exported only when `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` or `OTEL_TRACES_EXPORTER` is
 * set; log lines (JSON, PII redacted; `warn` unless `LOG_LEVEL` says otherwise) on stderr, so stdout stays the
 * conversation (or the --json document).
 */
async function cliTelemetry(io: CliIO): Promise<RunnerTelemetry> {
  return startRunnerTelemetryOrFail({
    env: io.env ?? process.env,
    logDestination: { write: (line: string) => io.stderr(line) },
    defaultLogLevel: 'warn',
  });
}

/**
 * The engine on the tenant's pack from the pack store (no `--flow`), with the runner's platform: secrets for its
 * components (manifest declarations, pack id, the tenant allow-list), policy decisions traced and denials logged.
 */
async function openPackEngine(
  io: CliIO,
  o: { tenant: string; config?: string; store?: string; strictTemplates?: boolean },
  platform: RunnerPlatform,
): Promise<PackEngine> {
  const settings = resolvePackSettings({
    env: io.env ?? process.env,
    ...(o.config !== undefined ? { configFile: o.config } : {}),
    ...(o.store !== undefined ? { store: o.store } : {}),
  });
  return packEngine({
    tenant: o.tenant,
    settings,
    strictTemplates: o.strictTemplates === true,
    platform,
  }).catch((e: unknown) => {
    // nothing to run: neither --flow nor a loaded pack is a usage error here
    if (e instanceof RunnerError && e.code === 'GT_RUNNER_FLOW_NOT_FOUND')
      throw new RunnerError('GT_RUNNER_USAGE', `no --flow given, and ${e.message}`);
    throw e;
  });
}

function printTurn(io: CliIO, r: TurnResult, prefix = '') {
  for (const reply of r.replies) {
    if (reply.text !== undefined) io.stdout(`${prefix}${reply.text}\n`);
    else io.stdout(`${prefix}${JSON.stringify(reply.payload ?? reply.card)}\n`);
  }
  for (const w of r.warnings) io.stderr(`warning: ${w}\n`);
  if (r.status === 'error') io.stderr(`error ${r.error?.code}: ${r.error?.message}\n`);
}

function turnJson(r: TurnResult) {
  return {
    status: r.status,
    flow: r.flowId,
    replies: r.replies,
    session_key: r.sessionKey,
    wait_reason: r.waitReason,
    trail: r.trail,
    output: r.output,
    warnings: r.warnings,
    error: r.error,
  };
}

export async function runRunnerCli(argv: string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const program = new Command('greentic-runner')
    .description(
      'Run Greentic flows: one turn at a time (run-flow) or as a conversation in the terminal (chat).',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  const common = (c: Command) =>
    c
      .option(
        '--flow <path>',
        'a .ygtc file or a directory of them (repeatable); the first is the entry flow',
        collect,
        [],
      )
      .option('--entry <flowId>', 'the flow that starts new conversations (default: the first loaded)')
      .option('--tenant <tenant>', 'tenant id', 'demo')
      .option('--env <env>', 'environment id', 'dev')
      .option('--team <team>', 'team id')
      .option('--user <user>', 'user id', 'user')
      .option('--strict-templates', 'a template path that does not exist is an error, not a warning');

  common(program.command('run-flow'))
    .description(
      "Run one turn of a flow with an input message and print the replies. Without --flow, the entry flow of the tenant's loaded pack runs (greentic-runner load).",
    )
    .option(
      '--store <dir>',
      'without --flow: the pack store (default: $GREENTIC_HOME/packs, i.e. ~/.greentic/packs)',
    )
    .option('--config <file>', 'without --flow: runner configuration (packs.store, tenancy.env)')
    .requiredOption(
      '--input <json>',
      'the message: JSON text ("hi"), {"text":"hi"}, a Telegram update, or an envelope',
    )
    .option(
      '--json',
      'print one JSON document: {status, flow, replies, session_key, trail, output, warnings, error}',
    )
    .addHelpText(
      'after',
      `\nExamples:\n  greentic-runner run-flow --flow examples/qa-demo/flows/qa_demo.ygtc --tenant acme --input '{"text":"hi"}'\n  greentic-runner run-flow --flow flows/ --tenant acme --input '{"update":{"message":{"text":"/weather","chat":{"id":42}}}}' --json\n  greentic-runner load --pack dist/weather.gtpack && greentic-runner run-flow --tenant acme --input '{"update":{"message":{"text":"/weather"}}}'\n\nWithout --flow the tenant's pack runs: its own (load --tenant), else the default pack (load without --tenant), with\nits components in the sandboxed component host. --entry picks another flow of the pack.\n\nExit codes: 0 the turn completed or is waiting for input, 1 the flow failed (or the stored pack was refused),\n2 bad usage (also: no --flow and no pack loaded).`,
    )
    .action(async (o) => {
      const msg = envelopeFromInput(parseInput(o.input), {
        env: o.env,
        tenant: o.tenant,
        team: o.team,
        user: o.user,
      });
      let r: TurnResult;
      let pack: Record<string, unknown> | undefined;
      const telemetry = await cliTelemetry(io);
      try {
        if (o.flow.length > 0) {
          r = await makeEngine(loadFlows(o.flow), { ...o, tracer: telemetry.tracer }).handleMessage(msg);
        } else {
          const platform = await createPlatform({ env: io.env ?? process.env, telemetry });
          try {
            const pe = await openPackEngine(io, o, platform);
            try {
              r = await pe.engine.handleMessage(msg, o.entry !== undefined ? { flowId: o.entry } : {});
            } finally {
              await pe.close();
            }
            const { ref, from } = pe.opened;
            pack = { id: ref.pack_id, version: ref.version, digest: ref.digest, tenant: from ?? null };
          } finally {
            await platform.close();
          }
        }
      } finally {
        // export the turn's spans before the process exits
        await telemetry.shutdown();
      }
      if (o.json) io.stdout(`${JSON.stringify({ ...turnJson(r), ...(pack ? { pack } : {}) }, null, 2)}\n`);
      else {
        printTurn(io, r);
        if (r.status === 'pending') io.stderr(`(waiting: ${r.waitReason})\n`);
      }
      exitCode = r.status === 'error' ? 1 : 0;
    });

  common(program.command('chat'))
    .description(
      "Talk to a flow in the terminal. The conversation pauses at each question and resumes on your next line. Without --flow, the entry flow of the tenant's loaded pack runs (greentic-runner load).",
    )
    .option('--start <text>', 'send this message first, so the flow greets you before you type')
    .option('--conversation <id>', 'conversation id (reply scope)', 'terminal')
    .option(
      '--store <dir>',
      'without --flow: the pack store (default: $GREENTIC_HOME/packs, i.e. ~/.greentic/packs)',
    )
    .option('--config <file>', 'without --flow: runner configuration (packs.store, tenancy.env)')
    .addHelpText(
      'after',
      `\nType a message and press Enter. /quit (or Ctrl-D) ends the session; /restart forgets the conversation.\n\nExamples:\n  greentic-runner chat --flow examples/qa-demo/flows/qa_demo.ygtc --start hi\n  greentic-runner load --pack dist/weather.gtpack && greentic-runner chat --tenant acme --start /weather\n\nWithout --flow the tenant's pack runs, with its components in the sandboxed component host (secrets from the\nsecrets store as the tenant allow-list grants them; see docs/secrets.md).`,
    )
    .action(async (o) => {
      const telemetry = await cliTelemetry(io);
      let platform: RunnerPlatform | undefined;
      let pe: PackEngine | undefined;
      try {
        let engine: FlowEngine;
        let flowName: string;
        if (o.flow.length > 0) {
          engine = makeEngine(loadFlows(o.flow), { ...o, tracer: telemetry.tracer });
          flowName = `flow "${engine.entryFlowId}"`;
        } else {
          platform = await createPlatform({ env: io.env ?? process.env, telemetry });
          pe = await openPackEngine(io, o, platform);
          engine = pe.engine;
          const { ref } = pe.opened;
          flowName = `pack ${ref.pack_id} ${ref.version}${o.entry !== undefined ? ` (flow "${o.entry}")` : ''}`;
        }
        let conversation = o.conversation as string;
        let restarts = 0;
        const send = async (text: string) => {
          const msg = envelopeFromInput(
            { text, conversation },
            { env: o.env, tenant: o.tenant, team: o.team, user: o.user, channel: 'terminal' },
          );
          const r = await engine.handleMessage(msg, o.entry !== undefined && pe ? { flowId: o.entry } : {});
          printTurn(io, r, 'bot> ');
          if (r.status === 'done') io.stderr('(conversation finished — type anything to start again)\n');
          if (r.status === 'error') exitCode = 1;
        };
        const tty = io.isTTY ?? false;
        io.stderr(`Chatting with ${flowName} as tenant ${o.tenant}. /quit to leave.\n`);
        if (o.start) await send(o.start);
        const rl = createInterface({ input: io.stdin ?? process.stdin, terminal: false });
        if (tty) io.stdout('you> ');
        for await (const line of rl) {
          const text = line.trim();
          if (!tty) io.stdout(`you> ${line}\n`);
          if (text === '/quit' || text === '/exit') break;
          if (text === '/restart') {
            conversation = `${o.conversation}-${++restarts}`;
            io.stderr('(new conversation)\n');
          } else await send(line);
          if (tty) io.stdout('you> ');
        }
        rl.close();
      } finally {
        await pe?.close();
        await platform?.close();
        await telemetry.shutdown();
      }
    });

  registerLoad(program, io);
  registerServe(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof FlowError) {
      io.stderr(`error ${e.code}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof RunnerError) {
      io.stderr(`error ${e.code}: ${e.message}\n`);
      return e.code === 'GT_RUNNER_USAGE' ? 2 : 1;
    }
    if (e instanceof PackError) {
      io.stderr(`error ${e.code}: ${e.message}\n`);
      return e.code === 'GT_PACK_USAGE' || e.code === 'GT_PACK_OCI_USAGE' ? 2 : 1;
    }
    throw e;
  }
}
