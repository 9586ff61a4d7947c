import { describe, expect, it } from 'vitest';
import type { Condition } from './condition/index.js';
import { escapeDotLabel, escapeMermaid, toDot, toMermaid } from './graph.js';
import type { FlowIR, NodeIR, Route } from './ir.js';

const loc = { line: 1, column: 1, pointer: '' };
const cond = (source: string) => ({ source, paths: () => [] }) as unknown as Condition;
const route = (r: Omit<Partial<Route>, 'location'>): Route => ({ ...r, location: loc });
const node = (id: string, op: string, routes: Route[], extra: Partial<NodeIR> = {}): NodeIR => ({
  id,
  op,
  kind: 'builtin',
  payload: {},
  reserved: {},
  routes,
  routingForm: routes.length > 0 ? 'list' : 'absent',
  location: loc,
  ...extra,
});
const flow = (nodes: NodeIR[], extra: Partial<FlowIR> = {}): FlowIR => ({
  id: 'demo',
  kind: 'messaging',
  schemaVersion: 2,
  schemaVersionExplicit: false,
  start: nodes[0]!.id,
  parameters: {},
  extra: {},
  nodes: Object.fromEntries(nodes.map((n) => [n.id, n])),
  ...extra,
});

// ask → (action == "go") work, (status error) end, default: reply; work → end with reply; done: no routing.
const small = flow([
  node('ask', 'questions', [
    route({ to: 'work', condition: cond('response.action == "go"') }),
    route({ status: 'error', out: true }),
    route({ to: 'done' }),
  ]),
  node('work', 'component.exec', [route({ reply: true })], { operation: 'run', kind: 'component' }),
  node('done', 'emit.response', []),
]);

describe('toMermaid', () => {
  it('draws nodes, the start marker, labelled edges and an explicit end', () => {
    expect(toMermaid(small).split('\n')).toEqual([
      'flowchart TD',
      '  _start(("start"))',
      '  n0["ask<br/>questions"]',
      '  n1["work<br/>component.exec: run"]',
      '  n2["done<br/>emit.response"]',
      '  _end(("end"))',
      '  _start --> n0',
      '  n0 -->|"if response.action == #34;go#34;"| n1',
      '  n0 -->|"status: error"| _end',
      '  n0 --> n2',
      '  n1 -->|"reply"| _end',
      '  n2 --> _end',
      '',
    ]);
  });

  it('is deterministic and honours the direction option', () => {
    expect(toMermaid(small)).toBe(toMermaid(small));
    expect(toMermaid(small, { direction: 'LR' }).startsWith('flowchart LR\n')).toBe(true);
  });

  it('escapes quotes, <, >, &, | and # in ids and conditions', () => {
    const ir = flow([
      node('a', 'x', [
        route({ to: 'b', condition: cond(`a == "<b>" && c != '|' #1`) }),
        route({ on_message: true }),
      ]),
      node('b', 'y', []),
    ]);
    const out = toMermaid(ir).split('\n');
    expect(out).toContain('  n0 -->|"if a == #34;#60;b#62;#34; #38;#38; c != \'#124;\' #35;1"| n1');
    // Both arms are guarded, so the implicit "no match" end is drawn dashed.
    expect(out).toContain('  n0 -->|"on message"| _end');
    expect(out).toContain('  n0 -.->|"no match"| _end');
    expect(escapeMermaid('say "hi"\n<&>|`\\')).toBe('say #34;hi#34; #60;#38;#62;#124;#96;#92;');
  });

  it('draws missing targets and extra entrypoints', () => {
    const ir = flow([node('a', 'x', [route({ to: 'ghost' })]), node('b', 'y', [])], {
      entrypoints: { default: 'a', telegram: 'b' },
    });
    expect(toMermaid(ir).split('\n')).toEqual([
      'flowchart TD',
      '  _start(("start"))',
      '  _entry0(["entrypoint: telegram"])',
      '  n0["a<br/>x"]',
      '  n1["b<br/>y"]',
      '  missing0["missing node: ghost"]',
      '  _end(("end"))',
      '  _start --> n0',
      '  _entry0 --> n1',
      '  n0 --> missing0',
      '  n1 --> _end',
      '',
    ]);
  });
});

describe('toDot', () => {
  it('draws nodes, the start marker, labelled edges and an explicit end', () => {
    expect(toDot(small).split('\n')).toEqual([
      'digraph "demo" {',
      '  rankdir=TB;',
      '  node [shape=box];',
      '  "(start)" [label="start", shape=circle];',
      '  "ask" [label="ask\\nquestions"];',
      '  "work" [label="work\\ncomponent.exec: run"];',
      '  "done" [label="done\\nemit.response"];',
      '  "(end)" [label="end", shape=doublecircle];',
      '  "(start)" -> "ask";',
      '  "ask" -> "work" [label="if response.action == \\"go\\""];',
      '  "ask" -> "(end)" [label="status: error"];',
      '  "ask" -> "done";',
      '  "work" -> "(end)" [label="reply"];',
      '  "done" -> "(end)";',
      '}',
      '',
    ]);
  });

  it('escapes quotes, backslashes and & (but keeps <, > and | literal inside quotes)', () => {
    const ir = flow(
      [
        node('a', 'x', [route({ to: 'b', condition: cond(`a == "<b>" && c != '|' \\n`) }), route({})]),
        node('b', 'y', []),
      ],
      {
        id: 'say "hi"',
      },
    );
    const out = toDot(ir, { direction: 'LR' }).split('\n');
    expect(out[0]).toBe('digraph "say \\"hi\\"" {');
    expect(out[1]).toBe('  rankdir=LR;');
    expect(out).toContain(`  "a" -> "b" [label="if a == \\"<b>\\" &amp;&amp; c != '|' \\\\n"];`);
    expect(out).toContain('  "a" -> "(end)";');
    expect(escapeDotLabel('x & "y"\nz')).toBe('x &amp; \\"y\\"\\nz');
  });

  it('keeps missing targets apart from the markers', () => {
    const ir = flow([node('a', 'x', [route({ to: '(end)' })])]);
    const out = toDot(ir).split('\n');
    expect(out).toContain('  "(missing:(end))" [label="missing node: (end)", style=dashed];');
    expect(out).toContain('  "a" -> "(missing:(end))";');
    expect(out.some((l) => l.startsWith('  "(end)" ['))).toBe(false);
  });
});
