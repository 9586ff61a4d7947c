/**
 * Upstream conformance for the flow loader: every real `.ygtc` file of the shared corpus
 * (`../shared/conformance/flows/`, see its README) must get the verdict upstream greentic-flow gives it:
 * upstream-valid files load (and round-trip through `toYaml`), upstream-invalid files are rejected with the
 * matching error code. Where we deliberately differ, the file is listed in DEVIATIONS with the reason, and
 * the test asserts our code instead.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FLOW_SCHEMA_ID,
  FlowError,
  type FlowErrorCode,
  type FlowIR,
  flowErrorDetails,
  flowSchema,
  loadFlow,
  stripLocations,
  toYaml,
} from '../packages/flow/src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(repoRoot, '..', 'shared');
const corpus = path.join(shared, 'conformance');
const flowsDir = path.join(corpus, 'flows');
const indexFile = path.join(flowsDir, 'INDEX.tsv');

if (!existsSync(indexFile)) {
  throw new Error(
    `conformance corpus not found: expected ${indexFile} (the shared directory sits next to the repository, at ${shared}). ` +
      'Check out or mount the shared conformance corpus there to run these tests.',
  );
}

/** Upstream `FlowError` variants → our codes. */
const KIND_TO_CODE: Record<string, FlowErrorCode> = {
  Yaml: 'GT_FLOW_YAML',
  Schema: 'GT_FLOW_SCHEMA',
  NodeComponentShape: 'GT_FLOW_NODE_SHAPE',
  BadComponentKey: 'GT_FLOW_NODE_SHAPE',
  UnknownFlowType: 'GT_FLOW_UNKNOWN_TYPE',
  InvalidIdentifier: 'GT_FLOW_BAD_IDENTIFIER',
  Routing: 'GT_FLOW_ROUTING',
  MissingNode: 'GT_FLOW_MISSING_NODE',
  McpConfig: 'GT_FLOW_MCP_CONFIG',
};

interface Deviation {
  /** Upstream's verdict: `valid` or its error kind. */
  upstream: string;
  /** What we report instead. */
  ours: FlowErrorCode;
  why: string;
}

/** Files on which we deliberately disagree with upstream, keyed by corpus file name. */
const DEVIATIONS: Record<string, Deviation> = {
  'greenticai__greentic-secrets__packs__aws-sm__flows__provider_rotate_secret.ygtc': {
    upstream: 'valid',
    ours: 'GT_FLOW_EMPTY',
    why:
      'zero nodes (every node is commented out, so `nodes:` is null → {}). Upstream accepts it and the flow ' +
      'does nothing at run time; shipped empty flows broke the demos (greenticai/greentic#289), so we always ' +
      'reject a flow without nodes.',
  },
};

interface Row {
  file: string;
  verdict: 'valid' | 'invalid';
  error_kind: string;
  flow_id: string;
  type: string;
  nodes: string;
  start: string;
  op_keys: string;
  default_entry: string;
  schema_version: string;
  sha256: string;
  error_detail: string;
  [column: string]: string;
}

/** TSV with CSV-style quoting of fields that contain quotes. */
function readIndex(): Row[] {
  const lines = readFileSync(indexFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const unquote = (f: string) =>
    f.length >= 2 && f.startsWith('"') && f.endsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f;
  const header = lines[0]!.split('\t');
  return lines.slice(1).map((line) => {
    const fields = line.split('\t').map(unquote);
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      row[h] = fields[i] ?? '';
    });
    return row as Row;
  });
}

function readFlow(file: string): string {
  return readFileSync(path.join(flowsDir, file), 'utf8');
}

function loadError(source: string, file: string): FlowError | undefined {
  try {
    loadFlow(source, { file });
    return undefined;
  } catch (err) {
    if (err instanceof FlowError) return err;
    throw err;
  }
}

/** `op_keys` as the index writes it for one node: extra keys + op, with `[operation=x]` on the op. */
function opKeysOf(ir: FlowIR): string[] {
  return Object.values(ir.nodes).map((n) => {
    const op = n.operation !== undefined ? `${n.op}[operation=${n.operation}]` : n.op;
    return [...Object.keys(n.extra ?? {}), op].sort().join('+');
  });
}

function indexOpKeys(column: string): string[] {
  return column === '' ? [] : column.split(',').map((k) => k.split('+').sort().join('+'));
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const rows = readIndex();
const tally = { valid: 0, invalid: 0, agreed: 0, deviations: 0 };

describe('upstream flow corpus (shared/conformance/flows)', () => {
  it('lists every flow file with the bytes it was taken with', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const bytes = readFileSync(path.join(flowsDir, row.file));
      expect(createHash('sha256').update(bytes).digest('hex'), row.file).toBe(row.sha256);
    }
  });

  it('names only corpus files in the deviation table', () => {
    const files = new Set(rows.map((r) => r.file));
    for (const [file, d] of Object.entries(DEVIATIONS)) {
      expect(files.has(file), `DEVIATIONS names ${file}, which is not in INDEX.tsv`).toBe(true);
      const row = rows.find((r) => r.file === file)!;
      expect(d.upstream).toBe(row.verdict === 'valid' ? 'valid' : row.error_kind);
      expect(d.why.length).toBeGreaterThan(20);
    }
  });

  for (const row of rows) {
    const deviation = DEVIATIONS[row.file];
    const upstream = row.verdict === 'valid' ? 'valid' : `invalid (${row.error_kind})`;

    if (deviation) {
      it(`deviates on ${row.file}: upstream ${upstream}, we report ${deviation.ours} (${deviation.why.split('.')[0]})`, () => {
        const err = loadError(readFlow(row.file), row.file);
        expect(err?.code, err?.message).toBe(deviation.ours);
        tally.deviations++;
        if (row.verdict === 'valid') tally.valid++;
        else tally.invalid++;
      });
      continue;
    }

    if (row.verdict === 'valid') {
      it(`accepts ${row.file} (upstream: valid)`, () => {
        const source = readFlow(row.file);
        let ir: FlowIR;
        try {
          ir = loadFlow(source, { file: row.file });
        } catch (err) {
          throw new Error(`upstream accepts ${row.file}, we reject it: ${(err as Error).message}`, {
            cause: err,
          });
        }
        expect(ir.id).toBe(row.flow_id);
        expect(ir.kind).toBe(row.type);
        expect(String(Object.keys(ir.nodes).length)).toBe(row.nodes);
        expect(ir.startExplicit ?? ('in' in ir.nodes ? 'in' : '')).toBe(row.start);
        expect(show(ir.entrypoints?.default ?? ir.start)).toBe(row.default_entry);
        expect(ir.schemaVersionExplicit ? String(ir.schemaVersion) : '').toBe(row.schema_version);
        expect(opKeysOf(ir)).toEqual(indexOpKeys(row.op_keys));
        // Lossless round trip.
        const again = loadFlow(toYaml(ir));
        expect(stripLocations(again)).toEqual(stripLocations(ir));
        tally.valid++;
        tally.agreed++;
      });
    } else {
      const code = KIND_TO_CODE[row.error_kind];
      it(`rejects ${row.file} with ${code} (upstream: ${row.error_kind})`, () => {
        expect(code, `no mapping for upstream error kind ${row.error_kind}`).toBeDefined();
        const err = loadError(readFlow(row.file), row.file);
        expect(err, `upstream rejects ${row.file} (${row.error_detail}); we load it`).toBeDefined();
        expect(err!.code, err!.message).toBe(code);
        expect(err!.location?.file).toBe(row.file);
        expect(err!.location?.line).toBeGreaterThanOrEqual(1);
        // When upstream names the failing JSON pointer, one of our problems is at (or below) it.
        const m = /^(\/[^:\s]*): /.exec(row.error_detail);
        if (m) {
          const pointers = flowErrorDetails(err!).map((d) => d.location?.pointer ?? '');
          expect(
            pointers.some((p) => p.startsWith(m[1]!)),
            `${pointers.join(', ')} vs ${m[1]}`,
          ).toBe(true);
        }
        tally.invalid++;
        tally.agreed++;
      });
    }
  }

  afterAll(() => {
    const total = tally.valid + tally.invalid;
    console.log(
      `flow conformance: ${total} files (${tally.valid} upstream-valid, ${tally.invalid} upstream-invalid); ` +
        `${tally.agreed} same verdict and code, ${tally.deviations} documented deviation(s)`,
    );
  });
});

describe('the shipped flow schema', () => {
  it("is upstream's ygtc.flow.schema.json, unchanged (same JSON, same $id)", () => {
    const upstream = JSON.parse(
      readFileSync(
        path.join(corpus, 'schemas', 'greenticai__greentic-flow__schemas__ygtc.flow.schema.json'),
        'utf8',
      ),
    );
    expect(flowSchema()).toEqual(upstream);
    expect(upstream.$id).toBe(FLOW_SCHEMA_ID);
  });
});

describe('upstream golden outputs (shared/conformance/golden)', () => {
  const golden = (name: string) => JSON.parse(readFileSync(path.join(corpus, 'golden', name), 'utf8'));

  it('loads the flow of the flow_ok doctor bundle with the same id, kind, entry and nodes', () => {
    const out = golden('greenticai__greentic-flow__fixtures__flow_ok.bundle.json');
    expect(out.ok).toBe(true);
    const ir = loadFlow(out.bundle.yaml);
    expect(ir.id).toBe(out.bundle.id);
    expect(ir.kind).toBe(out.bundle.kind);
    expect(ir.start).toBe(out.bundle.entry);
    expect(out.bundle.json.start).toBe(ir.start);
    expect(ir.parameters).toEqual(out.bundle.json.parameters);
    expect(Object.keys(ir.nodes)).toEqual(out.bundle.nodes.map((n: { node_id: string }) => n.node_id));
    for (const n of out.bundle.nodes as { node_id: string; component: { name: string } }[]) {
      const node = ir.nodes[n.node_id]!;
      expect(node.op).toBe(n.component.name);
      expect(node.payload).toEqual(out.bundle.json.nodes[n.node_id][n.component.name]);
    }
  });

  for (const [sidecar, flow] of [
    [
      'greenticai__greentic-flow__tests__data__flow_ok.ygtc.resolve.json',
      'greenticai__greentic-flow__tests__data__flow_ok.ygtc',
    ],
    [
      'greenticai__greentic-flow__fixtures__weather_bot.ygtc.resolve.json',
      'greenticai__greentic-flow__fixtures__weather_bot.ygtc',
    ],
  ] as const) {
    it(`has exactly the nodes its resolve sidecar pins (${flow})`, () => {
      const ir = loadFlow(readFlow(flow));
      expect(Object.keys(ir.nodes).sort()).toEqual(Object.keys(golden(sidecar).nodes).sort());
    });
  }

  it('classifies the adapter nodes of flow_ok as adapters the golden registry provides', () => {
    const registry = golden('greenticai__greentic-flow__tests__data__registry_ok.json') as {
      adapters: Record<string, string[]>;
    };
    const ir = loadFlow(readFlow('greenticai__greentic-flow__tests__data__flow_ok.ygtc'));
    const adapters = Object.values(ir.nodes).filter((n) => n.kind === 'adapter');
    expect(adapters.map((n) => n.id)).toEqual(['in', 'email_notify']);
    for (const n of adapters) {
      const [ns, adapter, ...op] = n.op.split('.');
      expect(registry.adapters[`${ns}.${adapter}`]).toContain(op.join('.'));
    }
  });
});
