import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { FlowError } from './errors.js';
import { toDot, toMermaid } from './graph.js';
import type { FlowIR } from './ir.js';
import {
  type AdapterCatalog,
  entrypointNodes,
  type LintFinding,
  type LintRule,
  lintFlow,
  loadAdapterCatalog,
} from './lint.js';
import { flowErrorDetails, type LoadedFlow, loadFlowWithLocator } from './loader.js';

/**
 * `greentic-flow`: check flows (`doctor`) and draw them (`graph`). `runFlowCli` runs in-process (tests call it
 * directly); `bin/greentic-flow.js` is a shim around it. Results go to stdout, diagnostics to stderr.
 *
 * Exit codes: 0 no errors; 1 a flow has errors (with `--strict`, lint warnings count); 2 the command could not
 * run (bad usage, path not found, no flows found, unreadable catalog).
 */

export interface Writer {
  write(chunk: string): unknown;
}
export interface CliIO {
  stdout: Writer;
  stderr: Writer;
}

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** One problem in `doctor` output: a load error (`GT_FLOW_*` code) or a lint finding (`code: GT_FLOW_LINT`). */
export interface DoctorProblem {
  code: string;
  /** The lint rule, for lint findings. */
  rule?: LintRule;
  severity: 'error' | 'warning';
  /** What is wrong and what to do, without the location prefix. */
  message: string;
  file?: string;
  line: number | null;
  col: number | null;
  json_pointer: string | null;
}

/** Summary of a flow that loaded (upstream's `bundle`, without `yaml`/`json`/`hash_blake3`). */
export interface DoctorBundle {
  id: string;
  kind: string;
  /** The node a default turn starts at: `entrypoints.default` when it names a node, else `start`. */
  entry: string;
  start: string;
  nodes: {
    node_id: string;
    op: string;
    kind: string;
    component: { name: string; version_req: string };
    operation?: string;
    schema_id: null;
  }[];
}

export interface DoctorFileReport {
  file: string;
  ok: boolean;
  bundle?: DoctorBundle;
  errors: DoctorProblem[];
  warnings: DoctorProblem[];
}

export interface DoctorDirReport {
  ok: boolean;
  files: DoctorFileReport[];
}

export interface DoctorOptions {
  /** Loader strict mode, and lint warnings count as errors. */
  strict?: boolean;
  catalog?: AdapterCatalog;
  componentIds?: Iterable<string>;
}

/** Loads one `.ygtc` file, lints it and reports every problem with its location. Never throws for bad flows. */
export async function doctorFile(file: string, opts: DoctorOptions = {}): Promise<DoctorFileReport> {
  const report: DoctorFileReport = { file, ok: false, errors: [], warnings: [] };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const err = new FlowError('GT_FLOW_IO', `cannot read ${file}: ${(cause as Error).message}`, undefined, {
      cause,
    });
    report.errors.push(problemFromError(err, file));
    return report;
  }

  let loaded: LoadedFlow;
  try {
    loaded = loadFlowWithLocator(text, { file, strict: opts.strict === true });
  } catch (err) {
    const errors = flowErrorsOf(err);
    if (errors === undefined) throw err;
    report.errors.push(...errors.map((e) => problemFromError(e, file)));
    return report;
  }

  const ir = loaded.flow;
  const findings = lintFlow(ir, {
    catalog: opts.catalog,
    componentIds: opts.componentIds,
    locate: loaded.locate,
  });
  for (const f of findings) {
    const problem = problemFromFinding(f, file, opts.strict === true);
    (problem.severity === 'error' ? report.errors : report.warnings).push(problem);
  }
  // Upstream's key order: ok, bundle, errors.
  return {
    file,
    ok: report.errors.length === 0,
    bundle: bundleOf(ir),
    errors: report.errors,
    warnings: report.warnings,
  };
}

/** `doctorFile` over every `.ygtc` under `dir` (recursively, sorted; `node_modules` and dot-folders skipped). */
export async function doctorDir(dir: string, opts: DoctorOptions = {}): Promise<DoctorDirReport> {
  return doctorFiles(await findFlowFiles(dir), opts);
}

async function doctorFiles(files: string[], opts: DoctorOptions): Promise<DoctorDirReport> {
  const reports: DoctorFileReport[] = [];
  for (const f of files) reports.push(await doctorFile(f, opts));
  return { ok: reports.every((r) => r.ok), files: reports };
}

export async function findFlowFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) await walk(p);
      } else if (e.isFile() && e.name.endsWith('.ygtc')) {
        out.push(p);
      }
    }
  };
  await walk(dir);
  return out;
}

/** The individual problems behind a loader error (a schema error lists several); undefined if not a FlowError. */
function flowErrorsOf(err: unknown): FlowError[] | undefined {
  return err instanceof FlowError ? flowErrorDetails(err) : undefined;
}

/** The message without the `file:line:col ` prefix that `FlowError` adds. */
function bareMessage(err: FlowError): string {
  const loc = err.location;
  if (loc) {
    const prefix = `${loc.file ?? '<input>'}:${loc.line}:${loc.column} `;
    if (err.message.startsWith(prefix)) return err.message.slice(prefix.length);
  }
  return err.message;
}

function problemFromError(err: FlowError, file: string): DoctorProblem {
  const loc = err.location;
  return {
    code: err.code,
    severity: 'error',
    message: bareMessage(err),
    file: loc?.file ?? file,
    line: loc?.line ?? null,
    col: loc?.column ?? null,
    json_pointer: loc?.pointer ?? null,
  };
}

function problemFromFinding(f: LintFinding, file: string, strict: boolean): DoctorProblem {
  return {
    code: 'GT_FLOW_LINT',
    rule: f.rule,
    severity: strict ? 'error' : f.severity,
    message: f.message,
    file: f.location.file ?? file,
    line: f.location.line,
    col: f.location.column,
    json_pointer: f.location.pointer,
  };
}

function bundleOf(ir: FlowIR): DoctorBundle {
  const def = ir.entrypoints?.default;
  const entry = typeof def === 'string' && entrypointNodes(ir).includes(def) ? def : ir.start;
  return {
    id: ir.id,
    kind: ir.kind,
    entry,
    start: ir.start,
    nodes: Object.values(ir.nodes).map((n) => ({
      node_id: n.id,
      op: n.op,
      kind: n.kind,
      component: { name: n.op, version_req: '*' },
      ...(n.operation !== undefined ? { operation: n.operation } : {}),
      schema_id: null,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// human output

function formatProblem(p: DoctorProblem): string {
  const where = p.line !== null ? `${p.file}:${p.line}:${p.col ?? 1}` : `${p.file}`;
  return `${where} ${p.rule ?? p.code} ${p.severity}: ${p.message}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function printHuman(reports: DoctorFileReport[], io: CliIO): void {
  let errors = 0;
  let warnings = 0;
  for (const r of reports) {
    const problems = [...r.errors, ...r.warnings].sort(
      (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0),
    );
    for (const p of problems) io.stdout.write(`${formatProblem(p)}\n`);
    errors += r.errors.length;
    warnings += r.warnings.length;
  }
  const failed = reports.filter((r) => !r.ok).length;
  const verdict = errors === 0 ? 'ok' : `${plural(failed, 'flow')} failed`;
  io.stdout.write(
    `${plural(reports.length, 'flow')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')} (${verdict})\n`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// commands

class UsageError extends Error {}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const DOCTOR_HELP = `
Checks each flow: loads it (YAML, schema, routing) and lints it (start node, unreachable nodes, loops
without a waiting node, adapters against --registry, condition paths, routing that can fall through).
Prints one line per problem, "file:line:col CODE severity: message", then a summary.

Exit codes: 0 no errors; 1 errors found (with --strict, warnings too); 2 bad usage or unreadable input.

Examples:
  $ greentic-flow doctor flows/main.ygtc
  $ greentic-flow doctor flows/ --strict
  $ greentic-flow doctor flows/main.ygtc --registry registry.json --json | jq .errors
`;

const GRAPH_HELP = `
Prints the flow's routing as a Mermaid flowchart (default) or a Graphviz digraph: one box per node (id and
op), a start marker, an explicit end, and edges labelled with status/condition/reply/on_message.

Examples:
  $ greentic-flow graph flows/main.ygtc > main.mmd
  $ greentic-flow graph flows/main.ygtc --format dot | dot -Tsvg > main.svg
`;

export async function runFlowCli(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('greentic-flow')
    .description('Check and draw Greentic flows (.ygtc)')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ greentic-flow doctor flows/ --strict
  $ greentic-flow graph flows/main.ygtc --format dot
`,
    );

  program
    .command('doctor')
    .description('load and lint a flow file, or every .ygtc under a directory')
    .argument('<path>', 'a .ygtc file or a directory')
    .option('--json', 'print one JSON document instead of text')
    .option('--strict', 'strict loading (e.g. template paths), and lint warnings count as errors')
    .option('--registry <catalog.json>', 'adapter catalog: {"adapters": {"ns.adapter": ["op", …]}}')
    .addHelpText('after', DOCTOR_HELP)
    .action(async (path: string, o: { json?: boolean; strict?: boolean; registry?: string }) => {
      let catalog: AdapterCatalog | undefined;
      if (o.registry !== undefined) {
        try {
          catalog = await loadAdapterCatalog(o.registry);
        } catch (err) {
          throw new UsageError(err instanceof FlowError ? `${err.code}: ${err.message}` : String(err));
        }
      }
      const info = await stat(path).catch(() => undefined);
      if (!info) throw new UsageError(`no such file or directory: ${path}`);
      const opts: DoctorOptions = { strict: o.strict === true, catalog };
      let reports: DoctorFileReport[];
      let json: DoctorFileReport | DoctorDirReport;
      if (info.isDirectory()) {
        const files = await findFlowFiles(path);
        if (files.length === 0) throw new UsageError(`no .ygtc files under ${path}`);
        io.stderr.write(`checking ${plural(files.length, 'flow')} under ${path}\n`);
        json = await doctorFiles(files, opts);
        reports = json.files;
      } else {
        const r = await doctorFile(path, opts);
        reports = [r];
        json = r;
      }
      if (o.json) io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      else printHuman(reports, io);
      exitCode = reports.every((r) => r.ok) ? EXIT_OK : EXIT_PROBLEMS;
    });

  program
    .command('graph')
    .description('print a flow as a Mermaid or Graphviz DOT graph')
    .argument('<file>', 'a .ygtc file')
    .addOption(
      new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'),
    )
    .addOption(new Option('--direction <dir>', 'layout direction').choices(['TD', 'LR']).default('TD'))
    .addHelpText('after', GRAPH_HELP)
    .action(async (file: string, o: { format: 'mermaid' | 'dot'; direction: 'TD' | 'LR' }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      let ir: FlowIR;
      try {
        ir = loadFlowWithLocator(text, { file }).flow;
      } catch (err) {
        const errors = flowErrorsOf(err);
        if (errors === undefined) throw err;
        for (const e of errors) io.stderr.write(`${formatProblem(problemFromError(e, file))}\n`);
        exitCode = EXIT_PROBLEMS;
        return;
      }
      const render = o.format === 'dot' ? toDot : toMermaid;
      io.stdout.write(render(ir, { direction: o.direction }));
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`greentic-flow: ${err.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`greentic-flow: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_USAGE;
  }
  return exitCode;
}
