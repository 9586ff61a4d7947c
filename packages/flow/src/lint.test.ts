import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Condition } from './condition/index.js';
import { FlowError } from './errors.js';
import type { FlowIR, NodeIR, Route } from './ir.js';
import { type LintFinding, lintFlow, loadAdapterCatalog, parseAdapterCatalog } from './lint.js';
import { loadFlowWithLocator } from './loader.js';

// Hand-built IR: node k sits at line 10k+1, its route j at line 10k+3+j.
type RouteSpec = Omit<Partial<Route>, 'condition' | 'location'> & { condition?: string; paths?: string[] };
interface NodeSpec {
  op: string;
  payload?: unknown;
  routes?: RouteSpec[];
}

function cond(source: string, paths: string[]): Condition {
  return { source, paths: () => paths } as unknown as Condition;
}

function kindOf(op: string): NodeIR['kind'] {
  if (op === 'mcp') return 'mcp';
  if (op === 'component.exec') return 'component';
  return op.split('.').length >= 3 ? 'adapter' : 'builtin';
}

function flow(specs: Record<string, NodeSpec>, extra: Partial<FlowIR> = {}): FlowIR {
  const nodes: Record<string, NodeIR> = {};
  Object.entries(specs).forEach(([id, spec], k) => {
    const routes: Route[] = (spec.routes ?? []).map(({ condition, paths, ...r }, j) => ({
      ...r,
      ...(condition !== undefined ? { condition: cond(condition, paths ?? []) } : {}),
      location: { file: 'f.ygtc', line: 10 * k + 3 + j, column: 9, pointer: `/nodes/${id}/routing/${j}` },
    }));
    const node: NodeIR = {
      id,
      op: spec.op,
      kind: kindOf(spec.op),
      payload: spec.payload ?? {},
      reserved: {},
      routes,
      routingForm: routes.length > 0 ? 'list' : 'absent',
      location: { file: 'f.ygtc', line: 10 * k + 1, column: 3, pointer: `/nodes/${id}` },
    };
    // An own property even for `__proto__`, as the loader does.
    Object.defineProperty(nodes, id, { value: node, enumerable: true, writable: true, configurable: true });
  });
  return {
    id: 'demo',
    kind: 'messaging',
    schemaVersion: 2,
    schemaVersionExplicit: false,
    start: Object.keys(nodes)[0] ?? '',
    parameters: {},
    extra: {},
    nodes,
    file: 'f.ygtc',
    ...extra,
  };
}

const rules = (findings: LintFinding[]) => findings.map((f) => `${f.rule}:${f.severity}:${f.nodeId ?? '-'}`);
const only = (findings: LintFinding[], rule: LintFinding['rule']) => findings.filter((f) => f.rule === rule);

describe('lintFlow', () => {
  it('reports nothing for a clean linear flow', () => {
    const ir = flow({
      ask: { op: 'questions', routes: [{ to: 'reply' }] },
      reply: { op: 'emit.response', routes: [{ out: true }] },
    });
    expect(lintFlow(ir)).toEqual([]);
  });

  describe('start_node_exists', () => {
    it('flags a start that names no node, pointing at /start when it was written', () => {
      const ir = flow({ a: { op: 'questions' } }, { start: 'nope', startExplicit: 'nope' });
      const [f] = only(lintFlow(ir), 'start_node_exists');
      expect(f).toMatchObject({
        severity: 'error',
        location: { file: 'f.ygtc', line: 1, column: 1, pointer: '/start' },
      });
      expect(f!.message).toContain('"nope"');
      expect(f!.message).toContain('nodes: a');
    });

    it('uses the locate option to place flow-level findings', () => {
      const ir = flow({ a: { op: 'questions' } }, { start: 'nope', startExplicit: 'nope' });
      const [f] = lintFlow(ir, { locate: (p) => ({ file: 'x', line: 4, column: 8, pointer: p }) });
      expect(f!.location).toEqual({ file: 'x', line: 4, column: 8, pointer: '/start' });
    });

    it('flags a flow without nodes', () => {
      expect(rules(lintFlow(flow({})))).toEqual(['start_node_exists:error:-']);
    });

    it('accepts a start that exists', () => {
      expect(only(lintFlow(flow({ a: { op: 'questions' } })), 'start_node_exists')).toEqual([]);
    });
  });

  describe('routing_target_exists', () => {
    it('flags a route to a missing node at the route', () => {
      const ir = flow({ a: { op: 'questions', routes: [{ to: 'ghost' }] } });
      const [f] = only(lintFlow(ir), 'routing_target_exists');
      expect(f).toMatchObject({
        severity: 'error',
        nodeId: 'a',
        location: { line: 3, pointer: '/nodes/a/routing/0' },
      });
    });

    it('does not mistake Object.prototype members for nodes', () => {
      const ir = flow({ a: { op: 'questions', routes: [{ to: 'constructor' }, { to: 'toString' }] } });
      expect(rules(lintFlow(ir))).toEqual(['routing_target_exists:error:a', 'routing_target_exists:error:a']);
      const specs: Record<string, NodeSpec> = {
        constructor: { op: 'questions', routes: [{ to: '__proto__' }] },
      };
      Object.defineProperty(specs, '__proto__', { value: { op: 'x' }, enumerable: true });
      const named = flow(specs);
      expect(Object.keys(named.nodes)).toEqual(['constructor', '__proto__']);
      expect(lintFlow(named)).toEqual([]);
    });

    it('treats to: out and out: true as the end, not as targets', () => {
      const ir = flow({ a: { op: 'questions', routes: [{ to: 'out' }, { out: true }] } });
      expect(only(lintFlow(ir), 'routing_target_exists')).toEqual([]);
    });
  });

  describe('unreachable_node', () => {
    it('flags a node nothing routes to', () => {
      const ir = flow({
        a: { op: 'questions', routes: [{ out: true }] },
        orphan: { op: 'emit.response' },
      });
      const found = only(lintFlow(ir), 'unreachable_node');
      expect(rules(found)).toEqual(['unreachable_node:warning:orphan']);
      expect(found[0]!.location).toMatchObject({ line: 11, pointer: '/nodes/orphan' });
    });

    it('counts nodes reached from an entrypoint (string or list) as reachable', () => {
      const ir = flow(
        {
          a: { op: 'questions' },
          b: { op: 'emit.response', routes: [{ to: 'c' }] },
          c: { op: 'emit.response' },
          d: { op: 'emit.response' },
        },
        { entrypoints: { telegram: 'b', other: ['d'], weird: { x: 1 } } },
      );
      expect(only(lintFlow(ir), 'unreachable_node')).toEqual([]);
    });

    it('does not report unreachability when the start itself is missing', () => {
      const ir = flow({ a: { op: 'questions' } }, { start: 'nope' });
      expect(rules(lintFlow(ir))).toEqual(['start_node_exists:error:-']);
    });
  });

  describe('loop_without_wait', () => {
    it('errors on a loop whose nodes always route to each other', () => {
      const ir = flow({
        a: { op: 'state.set', routes: [{ to: 'b' }] },
        b: { op: 'template', routes: [{ to: 'a' }] },
      });
      const [f] = only(lintFlow(ir), 'loop_without_wait');
      expect(f).toMatchObject({ severity: 'error', nodeId: 'a', cycle: ['a', 'b'] });
      expect(f!.message).toContain('"a" → "b" → "a"');
      // Located at the arm that closes the loop (b → a).
      expect(f!.location.pointer).toBe('/nodes/b/routing/0');
    });

    it('warns on a loop with a conditional way out', () => {
      const ir = flow({
        start: { op: 'questions', routes: [{ to: 'fetch' }] },
        fetch: { op: 'http.client.get', routes: [{ to: 'check' }] },
        check: {
          op: 'template',
          routes: [{ condition: 'prev.done == true', paths: ['prev.done'], out: true }, { to: 'fetch' }],
        },
      });
      const [f] = only(lintFlow(ir), 'loop_without_wait');
      expect(f).toMatchObject({ severity: 'warning', cycle: ['fetch', 'check'] });
    });

    it('errors on a self loop', () => {
      const ir = flow({ spin: { op: 'template', routes: [{ to: 'spin' }] } });
      expect(only(lintFlow(ir), 'loop_without_wait')).toMatchObject([{ severity: 'error', cycle: ['spin'] }]);
    });

    it('reports a certain loop inside a larger loop as one error', () => {
      const ir = flow({
        a: { op: 'template', routes: [{ to: 'b' }] },
        b: { op: 'template', routes: [{ to: 'c' }] },
        c: { op: 'template', routes: [{ to: 'b' }, { to: 'a' }] },
      });
      expect(only(lintFlow(ir), 'loop_without_wait')).toMatchObject([
        { severity: 'error', cycle: ['b', 'c'] },
      ]);
    });

    it.each([['questions'], ['qa.process'], ['session.wait'], ['card'], ['component-adaptive-card.render']])(
      'accepts a loop that passes through a %s node',
      (op) => {
        const ir = flow({
          ask: { op, routes: [{ to: 'work' }] },
          work: { op: 'template', routes: [{ to: 'ask' }] },
        });
        expect(only(lintFlow(ir), 'loop_without_wait')).toEqual([]);
      },
    );

    it('accepts a loop through a component.exec that runs a card component', () => {
      const ir = flow({
        ask: {
          op: 'component.exec',
          payload: { component: 'component-adaptive-card.card' },
          routes: [{ to: 'w' }],
        },
        w: { op: 'template', routes: [{ to: 'ask' }] },
      });
      expect(only(lintFlow(ir), 'loop_without_wait')).toEqual([]);
    });
  });

  describe('adapter_resolvable', () => {
    const catalog = {
      adapters: { 'messaging.telegram': ['sendMessage'], 'email.google': ['send', 'draft.create'] },
    };

    it('accepts adapters and operations in the catalog, including dotted operations', () => {
      const ir = flow({
        a: { op: 'messaging.telegram.sendMessage', routes: [{ to: 'b' }] },
        b: { op: 'email.google.draft.create' },
      });
      expect(lintFlow(ir, { catalog })).toEqual([]);
    });

    it('flags an adapter missing from the catalog', () => {
      const [f] = lintFlow(flow({ a: { op: 'weather.api.forecast' } }), { catalog });
      expect(f).toMatchObject({ rule: 'adapter_resolvable', severity: 'error', nodeId: 'a' });
      expect(f!.message).toContain('"weather.api"');
      expect(f!.message).toContain('email.google, messaging.telegram');
    });

    it('flags an operation the adapter does not list', () => {
      const [f] = lintFlow(flow({ a: { op: 'messaging.telegram.sendPhoto' } }), { catalog });
      expect(f).toMatchObject({ rule: 'adapter_resolvable', severity: 'error' });
      expect(f!.message).toContain('"sendPhoto"');
      expect(f!.message).toContain('lists only: sendMessage');
    });

    it('is skipped without a catalog and ignores non-adapter nodes', () => {
      expect(lintFlow(flow({ a: { op: 'messaging.telegram.sendPhoto' } }))).toEqual([]);
      expect(lintFlow(flow({ a: { op: 'qa.process' } }), { catalog })).toEqual([]);
    });
  });

  describe('component_resolvable', () => {
    it('flags component.exec and unknown builtin ops that name no available component', () => {
      const ir = flow({
        a: { op: 'component.exec', payload: { component: 'crm' }, routes: [{ to: 'b' }] },
        b: { op: 'handle_message', routes: [{ to: 'c' }] },
        c: { op: 'component.exec', payload: {} },
      });
      expect(rules(lintFlow(ir, { componentIds: [] }))).toEqual([
        'component_resolvable:error:a',
        'component_resolvable:error:b',
        'component_resolvable:error:c',
      ]);
    });

    it('accepts available components, engine builtins and op keys whose prefix is a component', () => {
      const ir = flow({
        a: { op: 'component.exec', payload: { component: 'crm' }, routes: [{ to: 'b' }] },
        b: { op: 'component-adaptive-card.render', routes: [{ to: 'c' }] },
        c: { op: 'emit.response', routes: [{ to: 'd' }] },
        d: { op: 'questions' },
      });
      expect(lintFlow(ir, { componentIds: new Set(['crm', 'component-adaptive-card']) })).toEqual([]);
    });
  });

  describe('condition_paths', () => {
    const withCondition = (source: string, paths: string[]) =>
      flow({
        a: { op: 'questions', routes: [{ condition: source, paths, to: 'b' }, { out: true }] },
        b: { op: 'emit.response' },
      });

    it('accepts scope roots and node ids', () => {
      const ir = withCondition('…', [
        'response.action',
        'prev.payload.records[0].Name',
        'entry.input.text',
        'in.x',
        'state.count',
        'parameters.x',
        'node.a.ok',
        'a.success',
      ]);
      expect(lintFlow(ir)).toEqual([]);
    });

    it('warns for node.<id> naming a node that does not exist', () => {
      const [f] = lintFlow(withCondition('node.gone.ok == true', ['node.gone.ok']));
      expect(f).toMatchObject({ rule: 'condition_paths', severity: 'warning', location: { line: 3 } });
      expect(f!.message).toContain('"gone" is not a node');
    });

    it('warns for an unknown root and suggests prev', () => {
      const [f] = lintFlow(withCondition('oauth.success == true', ['oauth.success']));
      expect(f).toMatchObject({ rule: 'condition_paths', severity: 'warning' });
      expect(f!.message).toContain('"prev.oauth.success"');
    });

    it('reads the root of written paths with indexes and quoted keys', () => {
      const ir = withCondition('…', ['prev.items[0].x', `["node"]['gone'].x`, `a["b.c"]`]);
      expect(lintFlow(ir).map((f) => f.message.match(/reads "([^"]*)"/)?.[1])).toEqual(['node.gone.x']);
    });

    it('accepts path objects and segment arrays from Condition.paths()', () => {
      const ir = withCondition('x', []);
      const route = ir.nodes.a!.routes[0]!;
      route.condition = { source: 'x', paths: () => [{ segments: ['node', 'nope'] }, ['zzz', 'y']] } as never;
      expect(lintFlow(ir).map((f) => f.rule)).toEqual(['condition_paths', 'condition_paths']);
    });
  });

  describe('no_route_after_condition', () => {
    it('warns when every arm has a condition, at the last arm', () => {
      const ir = flow({
        a: {
          op: 'questions',
          routes: [
            { condition: 'response.action == "x"', paths: ['response.action'], to: 'b' },
            { condition: 'response.action == "y"', paths: ['response.action'], out: true },
          ],
        },
        b: { op: 'emit.response' },
      });
      const [f] = lintFlow(ir);
      expect(f).toMatchObject({ rule: 'no_route_after_condition', severity: 'warning', nodeId: 'a' });
      expect(f!.location.pointer).toBe('/nodes/a/routing/1');
      expect(f!.message).toContain('out: true');
    });

    it('counts on_message arms as guarded too', () => {
      const ir = flow({
        a: {
          op: 'card',
          routes: [{ condition: 'response.action == "x"', paths: ['response.action'] }, { on_message: true }],
        },
      });
      expect(rules(lintFlow(ir))).toEqual(['no_route_after_condition:warning:a']);
    });

    it('is quiet when a default arm follows the conditions, or routing is absent', () => {
      const ir = flow({
        a: {
          op: 'questions',
          routes: [{ condition: 'response.action == "x"', paths: ['response.action'], to: 'b' }, { to: 'b' }],
        },
        b: { op: 'emit.response' },
      });
      expect(lintFlow(ir)).toEqual([]);
    });
  });

  it('orders findings by location, then rule', () => {
    const ir = flow({
      a: { op: 'template', routes: [{ to: 'a' }, { to: 'ghost' }] },
      orphan: { op: 'weather.api.forecast' },
    });
    expect(rules(lintFlow(ir, { catalog: { adapters: {} } }))).toEqual([
      'loop_without_wait:error:a',
      'routing_target_exists:error:a',
      'unreachable_node:warning:orphan',
      'adapter_resolvable:error:orphan',
    ]);
  });
});

describe('adapter catalog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gt-flow-catalog-'));

  it('loads upstream registry format', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(
      file,
      JSON.stringify({ adapters: { 'messaging.telegram': ['sendMessage', 'editMessage'] } }),
    );
    expect(await loadAdapterCatalog(file)).toEqual({
      adapters: { 'messaging.telegram': ['sendMessage', 'editMessage'] },
    });
  });

  it('rejects a missing file with GT_FLOW_IO', async () => {
    await expect(loadAdapterCatalog(join(dir, 'nope.json'))).rejects.toMatchObject({ code: 'GT_FLOW_IO' });
  });

  it('rejects invalid JSON and wrong shapes with GT_FLOW_CATALOG', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ nope');
    await expect(loadAdapterCatalog(file)).rejects.toMatchObject({ code: 'GT_FLOW_CATALOG' });
    expect(() => parseAdapterCatalog({ adapters: { a: 'x' } })).toThrow(FlowError);
    expect(() => parseAdapterCatalog([])).toThrow(/no "adapters" object/);
  });
});

describe('lintFlow on flows loaded from .ygtc text', () => {
  const lint = (text: string, opts: Parameters<typeof lintFlow>[1] = {}) => {
    const { flow: ir, locate } = loadFlowWithLocator(text, { file: 'flow.ygtc' });
    return lintFlow(ir, { locate, ...opts });
  };

  it('places condition findings on the condition and node findings on the node key', () => {
    const findings = lint(`id: f
type: messaging
nodes:
  ask:
    questions: {}
    routing:
      - condition: node.gone.ok == true
        to: done
      - to: done
  done:
    emit.response: {}
  orphan:
    emit.response: {}
`);
    expect(findings.map((f) => [f.rule, f.location.line, f.location.column, f.location.pointer])).toEqual([
      ['condition_paths', 7, 20, '/nodes/ask/routing/0/condition'],
      ['unreachable_node', 12, 3, '/nodes/orphan'],
    ]);
    expect(findings[0]!.location.file).toBe('flow.ygtc');
  });

  it('finds a loop without a waiting node and accepts the same loop through a question', () => {
    const loop = (op: string) => `id: f
type: messaging
nodes:
  first:
    ${op}: {}
    routing:
      - to: second
  second:
    template: "x"
    routing:
      - to: first
`;
    expect(lint(loop('state.set'))).toMatchObject([
      { rule: 'loop_without_wait', severity: 'error', cycle: ['first', 'second'], location: { line: 11 } },
    ]);
    expect(lint(loop('questions'))).toEqual([]);
  });

  it('checks adapter nodes against the catalog', () => {
    const text = `id: f
type: messaging
nodes:
  in:
    messaging.telegram.sendMessage: {}
    routing:
      - to: mail
  mail:
    email.google.sendLater: {}
`;
    const catalog = { adapters: { 'messaging.telegram': ['sendMessage'], 'email.google': ['send'] } };
    expect(lint(text, { catalog }).map((f) => [f.rule, f.nodeId, f.location.line])).toEqual([
      ['adapter_resolvable', 'mail', 8],
    ]);
  });

  // The shared upstream corpus sits next to the repository (see conformance/flows.test.ts).
  const corpus = resolve(fileURLToPath(import.meta.url), '../../../../../shared/conformance/flows');
  it('reports no lint error on any loadable upstream flow of the corpus', () => {
    if (!existsSync(corpus)) {
      throw new Error(
        `conformance corpus not found at ${corpus}: the shared directory sits next to the repository`,
      );
    }
    let linted = 0;
    for (const name of readdirSync(corpus).filter((n) => n.endsWith('.ygtc'))) {
      let loaded: ReturnType<typeof loadFlowWithLocator>;
      try {
        loaded = loadFlowWithLocator(readFileSync(join(corpus, name), 'utf8'), { file: name });
      } catch {
        continue;
      }
      linted++;
      const errors = lintFlow(loaded.flow, { locate: loaded.locate }).filter((f) => f.severity === 'error');
      expect(errors, name).toEqual([]);
    }
    expect(linted).toBeGreaterThan(10);
  });
});
