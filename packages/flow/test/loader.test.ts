import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FlowError,
  type FlowErrorCode,
  flowErrorDetails,
  loadFlow,
  loadFlowFile,
  loadFlowWithLocator,
  stripLocations,
  toYaml,
} from '../src/index.js';

function rejects(source: string, opts: { strict?: boolean; file?: string } = {}): FlowError {
  try {
    loadFlow(source, opts);
  } catch (err) {
    if (err instanceof FlowError) return err;
    throw err;
  }
  throw new Error('expected the flow to be rejected');
}

function expectCode(source: string, code: FlowErrorCode, opts: { strict?: boolean } = {}): FlowError {
  const err = rejects(source, opts);
  expect(err.code, err.message).toBe(code);
  return err;
}

const WEATHER = `id: weather_bot
title: i18n:flow.weather_bot.title
type: messaging
parameters:
  days_default: 3
x-generated-by: hand
nodes:
  in:
    qa.process:
      welcome: "Hi there!"
    routing:
      - to: forecast
  forecast:
    weather.api.forecast: { q: "{{in.input.text}}" }
    in_map: { q: "$.input" }
    telemetry: { span_name: forecast }
    routing:
      - status: error
        to: sorry
      - condition: prev.temp_c > 30
        to: hot
      - to: report
  sorry:
    emit.response: { text: "Weather service unavailable" }
    routing: reply
  hot:
    mcp: { server: weather, tool: heat_alert, arguments: { city: "{{in.input.text}}" }, output: alert }
    routing: out
  report:
    component.exec: { component: weather_fmt }
    operation: render
`;

describe('loadFlow: the IR', () => {
  it('builds the flow header, keeping unknown top-level keys in extra', () => {
    const ir = loadFlow(WEATHER, { file: 'weather.ygtc' });
    expect(ir).toMatchObject({
      id: 'weather_bot',
      kind: 'messaging',
      title: 'i18n:flow.weather_bot.title',
      schemaVersion: 2,
      schemaVersionExplicit: false,
      start: 'in',
      parameters: { days_default: 3 },
      extra: { 'x-generated-by': 'hand' },
      file: 'weather.ygtc',
    });
    expect(ir.startExplicit).toBeUndefined();
    expect(Object.keys(ir.nodes)).toEqual(['in', 'forecast', 'sorry', 'hot', 'report']);
  });

  it('classifies nodes the way upstream does: mcp, adapters (3+ dot parts), component.exec, builtins', () => {
    const ir = loadFlow(WEATHER);
    expect(Object.fromEntries(Object.values(ir.nodes).map((n) => [n.id, [n.op, n.kind]]))).toEqual({
      in: ['qa.process', 'builtin'],
      forecast: ['weather.api.forecast', 'adapter'],
      sorry: ['emit.response', 'builtin'],
      hot: ['mcp', 'mcp'],
      report: ['component.exec', 'component'],
    });
    expect(ir.nodes.report!.operation).toBe('render');
    expect(ir.nodes.report!.payload).toEqual({ component: 'weather_fmt' });
  });

  it('keeps reserved node keys apart from the payload', () => {
    const node = loadFlow(WEATHER).nodes.forecast!;
    expect(node.payload).toEqual({ q: '{{in.input.text}}' });
    expect(node.reserved).toEqual({ in_map: { q: '$.input' }, telemetry: { span_name: 'forecast' } });
    expect(node.extra).toBeUndefined();
  });

  it('records routes in order with their source locations, and how routing was written', () => {
    const ir = loadFlow(WEATHER, { file: 'weather.ygtc' });
    const forecast = ir.nodes.forecast!;
    expect(forecast.routingForm).toBe('list');
    expect(forecast.routes.map((r) => [r.status, r.condition?.source, r.to])).toEqual([
      ['error', undefined, 'sorry'],
      [undefined, 'prev.temp_c > 30', 'hot'],
      [undefined, undefined, 'report'],
    ]);
    expect(forecast.routes[1]!.location).toEqual({
      file: 'weather.ygtc',
      line: 20,
      column: 9,
      pointer: '/nodes/forecast/routing/1',
    });
    expect(ir.nodes.sorry!.routingForm).toBe('reply');
    expect(ir.nodes.sorry!.routes).toMatchObject([{ reply: true }]);
    expect(ir.nodes.hot!.routingForm).toBe('out');
    expect(ir.nodes.hot!.routes).toMatchObject([{ out: true }]);
    expect(ir.nodes.report!.routingForm).toBe('absent');
    expect(ir.nodes.report!.routes).toEqual([]);
    expect(ir.nodes.report!.location).toMatchObject({ line: 29, column: 3, pointer: '/nodes/report' });
  });

  it('parses conditions at load time', () => {
    const cond = loadFlow(WEATHER).nodes.forecast!.routes[1]!.condition!;
    expect(cond.source).toBe('prev.temp_c > 30');
  });

  it('accepts on_message routes (newer upstream) beside the schema fields', () => {
    const ir = loadFlow(`id: card
type: messaging
nodes:
  ask:
    card: { card_source: inline }
    routing:
      - condition: response.action == "back"
        to: ask
      - on_message: true
        to: ask
      - out: true
`);
    expect(ir.nodes.ask!.routes[1]).toMatchObject({ on_message: true, to: 'ask' });
  });

  it('treats "routing:" nested inside an op payload as payload', () => {
    const ir = loadFlow(`id: nested
type: messaging
nodes:
  in:
    component.exec:
      component: repo_assistant
      routing: [{ to: nowhere }]
`);
    expect(ir.nodes.in!.routes).toEqual([]);
    expect(ir.nodes.in!.payload).toEqual({ component: 'repo_assistant', routing: [{ to: 'nowhere' }] });
  });

  it('defaults parameters to {} and keeps entrypoints exactly as written', () => {
    const ir = loadFlow(`id: eps
type: component-config
entrypoints:
  default: [emit]
  telegram: emit
  "http:/hook": emit
nodes:
  emit:
    greentic.host.iac-write-files.write-files: { files: [] }
`);
    expect(ir.parameters).toEqual({});
    expect(ir.entrypoints).toEqual({ default: ['emit'], telegram: 'emit', 'http:/hook': 'emit' });
  });
});

describe('loadFlow: start resolution', () => {
  const nodes = `nodes:
  first: { emit.response: { text: a } }
  in: { emit.response: { text: b } }
`;
  it('uses an explicit start', () => {
    const ir = loadFlow(`id: s\ntype: messaging\nstart: first\n${nodes}`);
    expect([ir.start, ir.startExplicit]).toEqual(['first', 'first']);
  });
  it('falls back to a node named "in"', () => {
    expect(loadFlow(`id: s\ntype: messaging\n${nodes}`).start).toBe('in');
  });
  it('falls back to the first node when there is no "in"', () => {
    expect(loadFlow('id: s\ntype: messaging\nnodes:\n  b: { x.y: 1 }\n  a: { x.y: 2 }\n').start).toBe('b');
  });
  it('rejects a start that names no node, listing the nodes', () => {
    const err = expectCode(`id: s\ntype: messaging\nstart: nope\n${nodes}`, 'GT_FLOW_MISSING_NODE');
    expect(err.message).toContain('(nodes: first, in)');
    expect(err.location).toMatchObject({ line: 3, column: 8, pointer: '/start' });
  });
});

describe('loadFlow: schema_version < 2', () => {
  const legacy = `schema_version: 1
id: provider_onboard
type: event
entrypoints:
  default: {}
nodes:
  auth:
    telemetry: { span: provider.onboard.auth }
    operation: assume_identity
    component.exec: { component: greentic.secrets.provider.aws_sm }
  audit:
    after: auth
    redaction: { fields: [secret] }
    component.exec: { component: greentic.secrets.provider.aws_sm }
    operation: emit_event
`;

  it('skips the schema and the one-operation rule, keeping extra keys for the round trip', () => {
    const ir = loadFlow(legacy);
    expect(ir.schemaVersion).toBe(1);
    expect(ir.schemaVersionExplicit).toBe(true);
    expect(ir.nodes.audit).toMatchObject({
      op: 'component.exec',
      operation: 'emit_event',
      extra: { after: 'auth', redaction: { fields: ['secret'] } },
    });
    // `telemetry.span` is not a schema field; with v1 nothing checks it.
    expect(ir.nodes.auth!.reserved.telemetry).toEqual({ span: 'provider.onboard.auth' });
  });

  it('applies the schema and the one-operation rule in strict mode', () => {
    const err = expectCode(legacy, 'GT_FLOW_NODE_SHAPE', { strict: true });
    expect(err.location?.pointer).toBe('/nodes/audit/redaction');
  });

  it('still needs an operation key on every node', () => {
    expectCode(
      'schema_version: 1\nid: x\ntype: event\nnodes:\n  a:\n    routing: out\n',
      'GT_FLOW_NODE_SHAPE',
    );
  });
});

describe('loadFlow: errors', () => {
  it('reports every schema problem, sorted by position, each with its own location', () => {
    const err = expectCode(
      `id: many
type: messaging
nodes:
  a:
    emit.response: { text: hi }
    telemetry: { span: x }
    routing:
      - next: b
        out: "yes please"
  b:
    emit.response: { text: bye }
`,
      'GT_FLOW_SCHEMA',
    );
    const details = flowErrorDetails(err);
    expect(details.map((d) => [d.location?.line, d.location?.column, d.location?.pointer])).toEqual([
      [6, 18, '/nodes/a/telemetry/span'],
      [8, 9, '/nodes/a/routing/0/next'],
      [9, 14, '/nodes/a/routing/0/out'],
    ]);
    expect(err.location).toEqual(details[0]!.location);
    expect(err.message).toContain('3 problems');
    expect(err.message).toContain('write "to: <node id>" instead of "next:"');
    expect(err.message).toContain('"out" must be true or false');
    expect(err.message).not.toContain('must match exactly one schema');
  });

  it('phrases a wrongly typed routing value instead of dumping both oneOf branches', () => {
    const err = expectCode(
      'id: r\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing: 3\n',
      'GT_FLOW_SCHEMA',
    );
    expect(flowErrorDetails(err)).toHaveLength(1);
    expect(err.message).toContain('routing must be "out", "reply" or a list of routes, found the integer 3');
  });

  it('returns the error itself as its only detail when there is one problem', () => {
    const err = expectCode('id: t\ntype: 7\nnodes:\n  a: { x.y: 1 }\n', 'GT_FLOW_SCHEMA');
    expect(flowErrorDetails(err)).toEqual([err]);
    expect(err.location).toMatchObject({ line: 2, column: 7, pointer: '/type' });
    expect(err.message).toContain('"type" must be a string, found the integer 7');
  });

  it('checks the one-operation rule before the schema, as upstream does', () => {
    const err = expectCode(
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    z.w: 2\n    routing: [{ bogus: 1 }]\n',
      'GT_FLOW_NODE_SHAPE',
    );
    expect(err.message).toContain('2 operation keys (x.y, z.w)');
  });

  it('tolerates one extra key beside component.exec (upstream), but not in strict mode', () => {
    const src = 'id: t\ntype: messaging\nnodes:\n  a:\n    component.exec: { component: c }\n    helper: 1\n';
    expect(loadFlow(src).nodes.a).toMatchObject({ op: 'component.exec', extra: { helper: 1 } });
    expectCode(src, 'GT_FLOW_NODE_SHAPE', { strict: true });
  });

  it('lists the allowed kinds for an unknown flow type', () => {
    const err = expectCode('id: t\ntype: timer\nnodes:\n  a: { x.y: 1 }\n', 'GT_FLOW_UNKNOWN_TYPE');
    expect(err.message).toContain('messaging, event, events, component-config, job, http');
  });

  it('points a missing routing target at the "to" value and lists the nodes', () => {
    const err = expectCode(
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing:\n      - to: b\n      - to: c\n  b: { x.y: 2 }\n',
      'GT_FLOW_MISSING_NODE',
    );
    expect(err.location).toMatchObject({ line: 8, column: 13, pointer: '/nodes/a/routing/1/to' });
    expect(err.message).toContain('"c"');
    expect(err.message).toContain('(nodes: a, b)');
  });

  it('does not mistake inherited object properties for nodes', () => {
    const err = expectCode(
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing: [{ to: toString }]\n',
      'GT_FLOW_MISSING_NODE',
    );
    expect(err.location?.pointer).toBe('/nodes/a/routing/0/to');
    expectCode(
      'id: t\ntype: messaging\nstart: constructor\nnodes:\n  a: { x.y: 1 }\n',
      'GT_FLOW_MISSING_NODE',
    );
  });

  it('keeps a node named __proto__ as an ordinary node through the round trip', () => {
    const ir = loadFlow(
      'id: t\ntype: messaging\nnodes:\n  __proto__:\n    x.y: 1\n    routing: [{ to: b }]\n  b: { x.y: 2 }\n',
    );
    expect(Object.keys(ir.nodes)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(ir.nodes)).toBe(Object.prototype);
    expect(ir.start).toBe('__proto__');
    expect(Object.keys(stripLocations(loadFlow(toYaml(ir))).nodes)).toEqual(['__proto__', 'b']);
  });

  it('accepts "to: out" as the end of the flow', () => {
    const ir = loadFlow('id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing: [{ to: out }]\n');
    expect(ir.nodes.a!.routes).toMatchObject([{ to: 'out' }]);
  });

  it('re-maps a condition error into the file, keeping the column inside the expression in the message', () => {
    const err = expectCode(
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing:\n      - condition: prev.x == == 1\n        to: a\n',
      'GT_FLOW_CONDITION',
    );
    expect(err.location).toMatchObject({ line: 7, column: 30, pointer: '/nodes/a/routing/0/condition' });
    expect(err.message).toContain('column 11');
    expect(err.cause).toBeInstanceOf(FlowError);
  });

  it('rejects route keys the IR cannot hold even where upstream skips the schema', () => {
    const err = expectCode(
      'schema_version: 1\nid: t\ntype: event\nnodes:\n  a:\n    x.y: 1\n    routing: [{ when: "x == 1", to: a }]\n',
      'GT_FLOW_ROUTING',
    );
    expect(err.location?.pointer).toBe('/nodes/a/routing/0/when');
  });

  it('reports an unreadable file as GT_FLOW_IO', () => {
    let err: unknown;
    try {
      loadFlowFile('/nonexistent/dir/flow.ygtc');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).code).toBe('GT_FLOW_IO');
    expect((err as FlowError).message).toContain('ENOENT');
  });

  it('rejects an empty file as a schema error (no type), as upstream does', () => {
    expectCode('', 'GT_FLOW_SCHEMA');
    expectCode('# nothing here\n', 'GT_FLOW_SCHEMA');
  });
});

describe('loadFlow: strict mode', () => {
  it('reads "to: out" in a condition list as a missing node, like upstream\'s compiler', () => {
    const src = `id: t
type: messaging
nodes:
  a:
    x.y: 1
    routing:
      - condition: prev.ok == true
        to: b
      - to: out
  b: { x.y: 2 }
`;
    expect(loadFlow(src).nodes.a!.routes[1]).toMatchObject({ to: 'out' });
    const err = expectCode(src, 'GT_FLOW_MISSING_NODE', { strict: true });
    expect(err.location).toMatchObject({ line: 9, column: 13, pointer: '/nodes/a/routing/1/to' });
    expect(err.message).toContain('out: true');
  });

  it('reads "to: out" before the first out/reply arm of a multi-route list as a missing node', () => {
    const src =
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing:\n      - status: ok\n        to: out\n      - to: a\n';
    expect(() => loadFlow(src)).not.toThrow();
    expectCode(src, 'GT_FLOW_MISSING_NODE', { strict: true });
    // After an out arm upstream stops checking; so do we.
    const after =
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing:\n      - out: true\n      - to: out\n';
    expect(() => loadFlow(after, { strict: true })).not.toThrow();
  });

  it('rejects unknown top-level keys except x-…', () => {
    const src = 'id: t\ntype: messaging\nin: start\nx-generated: yes\nnodes:\n  a: { x.y: 1 }\n';
    expect(loadFlow(src).extra).toEqual({ in: 'start', 'x-generated': 'yes' });
    const err = expectCode(src, 'GT_FLOW_SCHEMA', { strict: true });
    expect(err.location).toMatchObject({ line: 3, column: 1, pointer: '/in' });
  });

  it('requires entry points to name nodes', () => {
    const src = 'id: t\ntype: messaging\nentrypoints:\n  default: {}\nnodes:\n  a: { x.y: 1 }\n';
    expect(loadFlow(src).entrypoints).toEqual({ default: {} });
    expectCode(src, 'GT_FLOW_SCHEMA', { strict: true });
    expectCode(
      'id: t\ntype: messaging\nentrypoints: { default: b }\nnodes:\n  a: { x.y: 1 }\n',
      'GT_FLOW_MISSING_NODE',
      {
        strict: true,
      },
    );
  });

  it('rejects contradictory and empty routes, and "operation" beside another op', () => {
    const base = 'id: t\ntype: messaging\nnodes:\n  b: { x.y: 2 }\n  a:\n    x.y: 1\n';
    expectCode(`${base}    routing: [{ to: b, out: true }]\n`, 'GT_FLOW_ROUTING', { strict: true });
    expectCode(`${base}    routing: [{}]\n`, 'GT_FLOW_ROUTING', { strict: true });
    expectCode(`${base}    operation: run\n`, 'GT_FLOW_NODE_SHAPE', { strict: true });
    expect(() => loadFlow(`${base}    operation: run\n`)).not.toThrow();
  });
});

describe('loadFlowFile and loadFlowWithLocator', () => {
  it('reads a file and records its path in the IR and in error locations', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gt-flow-'));
    const good = path.join(dir, 'good.ygtc');
    writeFileSync(good, 'id: g\ntype: job\nnodes:\n  a: { x.y: 1 }\n');
    expect(loadFlowFile(good).file).toBe(good);
    const bad = path.join(dir, 'bad.ygtc');
    writeFileSync(bad, 'id: g\ntype: job\nnodes: {}\n');
    let err: FlowError | undefined;
    try {
      loadFlowFile(bad);
    } catch (e) {
      err = e as FlowError;
    }
    expect(err?.code).toBe('GT_FLOW_EMPTY');
    expect(err?.message.startsWith(`${bad}:3:1 `)).toBe(true);
  });

  it('locates any JSON pointer in the source', () => {
    const { flow, locate } = loadFlowWithLocator(WEATHER, { file: 'w.ygtc' });
    expect(flow.id).toBe('weather_bot');
    expect(locate('/parameters/days_default')).toEqual({
      file: 'w.ygtc',
      line: 5,
      column: 17,
      pointer: '/parameters/days_default',
    });
    expect(locate('/start')).toMatchObject({ line: 1, column: 1 });
  });
});
