import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type FlowIR, loadFlow, stripLocations, toYaml } from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function roundTrip(ir: FlowIR): FlowIR {
  return loadFlow(toYaml(ir));
}

function expectLossless(source: string): FlowIR {
  const ir = loadFlow(source);
  expect(stripLocations(roundTrip(ir))).toEqual(stripLocations(ir));
  return ir;
}

function ygtcFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...ygtcFiles(p));
    else if (name.endsWith('.ygtc')) out.push(p);
  }
  return out;
}

describe('toYaml', () => {
  it('emits the canonical key order, the shorthands as written and a blank line between nodes', () => {
    const ir = loadFlow(`nodes:
  ask:
    routing:
      - to: done
        condition: prev.ok == true
      - reply: true
    questions: { questions: [{ id: name, prompt: "Name?" }] }
  done:
    routing: out
    emit.response: { text: bye }
meta: { greentic: { wizard: 1 } }
x-generated: tool
schema_version: 2
parameters: { lang: en }
start: ask
tags: [demo]
description: A demo
title: Demo
type: messaging
id: demo
`);
    expect(toYaml(ir)).toBe(`id: demo
type: messaging
title: Demo
description: A demo
tags:
  - demo
start: ask
parameters:
  lang: en
schema_version: 2
meta:
  greentic:
    wizard: 1
x-generated: tool

nodes:
  ask:
    questions:
      questions:
        - id: name
          prompt: Name?
    routing:
      - condition: prev.ok == true
        to: done
      - reply: true

  done:
    emit.response:
      text: bye
    routing: out
`);
  });

  it('round-trips values YAML could misread: numeric and boolean-looking strings, templates, block text', () => {
    expectLossless(`id: tricky
type: messaging
parameters:
  looks_numeric: "0123"
  looks_bool: "true"
  yes_word: "yes"
  nothing: "null"
  empty: ""
  colon: "a: b"
  hash: "x # y"
  unicode: "Grüße 👋"
  trailing: "spaces at the end   "
  nested: { list: [1, 2.5, -3, true, null, { deep: [] }] }
nodes:
  in:
    template: "{{in.input.text}}"
    routing:
      - condition: '{{response.action == ''submit'' && (in.input.qty == null || in.input.qty == ''0'')}}'
        to: out
  "multi-line":
    templating.handlebars:
      text: |
        Line one
          indented
        Line "three" with 'quotes'

    routing: reply
`);
  });

  it('round-trips every node form: operation, reserved keys, extra keys, absent/empty routing', () => {
    expectLossless(`schema_version: 1
id: forms
type: event
entrypoints: { default: {} }
nodes:
  a:
    component.exec: { component: c, operation: x, input: { k: v } }
    operation: run
    after: b
    in_map: { q: "$.input" }
    out_map: { r: "$.out" }
    err_map: { e: "$.err" }
    output: { key: value }
    telemetry: { span_name: s, attributes: { k: v }, sampling: high }
    retry: { max: 3 }
    timeout: { ms: 100 }
    when: { expr: x }
    annotations: { a: 1 }
    meta: { m: 1 }
    routing: []
  b:
    qa.process: null
    routing: [{ to: a, status: ok }, { on_message: true, to: b }, { out: true }]
`);
  });

  it('emits a route list when the routes no longer match the recorded shorthand', () => {
    const ir = loadFlow(
      'id: t\ntype: messaging\nnodes:\n  a:\n    x.y: 1\n    routing: out\n  b: { x.y: 2 }\n',
    );
    const a = ir.nodes.a!;
    a.routes = [{ to: 'b', location: a.routes[0]!.location }];
    const again = roundTrip(ir);
    expect(again.nodes.a!.routingForm).toBe('list');
    expect(again.nodes.a!.routes).toMatchObject([{ to: 'b' }]);
  });

  it('does not emit defaults that were not written (schema_version, parameters, start)', () => {
    const yaml = toYaml(loadFlow('id: t\ntype: job\nnodes:\n  in: { x.y: 1 }\n'));
    expect(yaml).toBe('id: t\ntype: job\n\nnodes:\n  in:\n    x.y: 1\n');
  });

  it('round-trips the repository examples', () => {
    const files = ygtcFiles(path.join(repoRoot, 'examples'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const ir = loadFlow(readFileSync(file, 'utf8'), { file });
      expect(stripLocations(roundTrip(ir)), file).toEqual(stripLocations(ir));
    }
  });
});

describe('stripLocations', () => {
  it('drops node and route locations and the file, but not payload keys named "location"', () => {
    const ir = loadFlow(
      'id: t\ntype: messaging\nnodes:\n  a:\n    weather.api.get: { location: Paris }\n    routing: [{ out: true }]\n',
      { file: 'f.ygtc' },
    );
    const stripped = stripLocations(ir);
    expect(stripped).not.toHaveProperty('file');
    expect(stripped.nodes.a).not.toHaveProperty('location');
    expect(stripped.nodes.a!.routes[0]).toEqual({ out: true });
    expect(stripped.nodes.a!.payload).toEqual({ location: 'Paris' });
    // The input is not modified.
    expect(ir.file).toBe('f.ygtc');
    expect(ir.nodes.a!.location.line).toBe(4);
  });
});
