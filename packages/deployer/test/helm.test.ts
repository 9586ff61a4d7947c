// The Helm chart is generated from the same objects as the manifests. There is no helm binary here (Debian has no
// package), so the test renders the chart's templates by its documented placeholders — {{ .Values.x }} and
// {{ .Values.x | quote }}, nothing else — and checks that default values give exactly the manifests.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import {
  type Artifact,
  CHART_NAME,
  createDescription,
  formatDescription,
  helmChartFiles,
  k8sObjects,
  k8sValues,
  lintChart,
  literalValues,
  readPackInfo,
  renderChartTemplates,
  runDeployerCli,
  type TargetInput,
} from '../src/index.js';
import { cleanupDirs, HELLO_PACK, REPO_ROOT, tempDir } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents are untyped
type Json = any;

afterEach(cleanupDirs);

function input(): TargetInput {
  const d = createDescription({ tenant: 'acme', connectors: ['messaging.telegram'], target: 'k8s' });
  d.target.k8s = {
    namespace: 'bots',
    image: { repository: 'registry.example/greentic-runner', tag: '1.2.3' },
  };
  return { description: d, dir: tempDir(), packs: [readPackInfo(HELLO_PACK)] };
}

function render(files: Artifact[], values: unknown): unknown[] {
  return files
    .filter((f) => f.path.startsWith('templates/') && f.path.endsWith('.yaml'))
    .sort((a, b) => a.path.localeCompare(b.path))
    .flatMap((f) => parseAllDocuments(renderChartTemplates(f.content, values)).map((d) => d.toJS()));
}

const QA_FLOW = join(REPO_ROOT, 'examples', 'qa-demo', 'flows', 'qa_demo.ygtc');

/** A reference chart: the QA demo flow, tenant demo. */
function referenceInput(): TargetInput {
  const d = createDescription({ tenant: 'demo', target: 'k8s', name: 'greentic' });
  d.target.runner = { flows: [QA_FLOW] };
  return { description: d, dir: REPO_ROOT, packs: [] };
}

describe('Helm chart', () => {
  it('renders, with its default values, exactly the generated manifests', () => {
    const i = input();
    const files = helmChartFiles(i);
    const values = parseYaml(files.find((f) => f.path === 'values.yaml')!.content);
    expect(values).toEqual(k8sValues(i));
    expect(render(files, values)).toEqual(
      JSON.parse(JSON.stringify(k8sObjects(i, literalValues(k8sValues(i))))),
    );
  });

  it('renders other values where the manifests put them', () => {
    const i = input();
    const files = helmChartFiles(i);
    const values = structuredClone(k8sValues(i));
    values.namespace = 'elsewhere';
    values.image.tag = '9.9.9';
    values.autoscaling.maxReplicas = 42;
    values.nats.storage = '10Gi';
    const objs = render(files, values) as Record<string, Json>[];
    expect(objs.every((o) => o.metadata.namespace === 'elsewhere')).toBe(true);
    const deployment = objs.find((o) => o.kind === 'Deployment')!;
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example/greentic-runner:9.9.9');
    expect(objs.find((o) => o.kind === 'HorizontalPodAutoscaler')!.spec.maxReplicas).toBe(42);
    expect(
      objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name.endsWith('nats'))!.spec
        .volumeClaimTemplates[0].spec.resources.requests.storage,
    ).toBe('10Gi');
    new ConfigMap(objs.find((o) => o.kind === 'ConfigMap')).validate();
  });

  it('uses only the documented placeholder forms, and escapes the flows\u2019 own {{…}}', () => {
    const files = helmChartFiles(input()).filter((x) => x.path.startsWith('templates/'));
    for (const f of files) {
      for (const m of f.content.matchAll(/\{\{ .*? \}\}/g))
        expect(m[0], f.path).toMatch(/^(\{\{ \.Values\.[\w.]+( \| quote)? \}\}|\{\{ "\{\{" \}\})$/);
    }
    const flows = files.find((f) => f.path.includes('configmap-acme-dev-runner-flows'))!.content;
    expect(flows).toContain('Hello {{ "{{" }}state.name}}!');
    const rendered = parseYaml(renderChartTemplates(flows, k8sValues(input())));
    expect(Object.values(rendered.data)[0]).toContain('Hello {{state.name}}!');
  });

  it('lints clean: Chart.yaml v2 with SemVer, values.yaml a mapping, every value used and defined', () => {
    const files = helmChartFiles(input());
    expect(lintChart(files)).toEqual([]);
    const chart = parseYaml(files.find((f) => f.path === 'Chart.yaml')!.content);
    expect(chart).toMatchObject({
      apiVersion: 'v2',
      name: CHART_NAME,
      type: 'application',
      appVersion: '1.2.3',
    });
    const schema = JSON.parse(files.find((f) => f.path === 'values.schema.json')!.content);
    expect(schema.required).toEqual(['namespace', 'image', 'resources', 'autoscaling', 'redis', 'nats']);
  });

  it('lint finds a value no template uses, a template value values.yaml lacks, and a bad Chart.yaml', () => {
    const files = helmChartFiles(input()).map((f) => ({ ...f }));
    const values = files.find((f) => f.path === 'values.yaml')!;
    values.content += '\nunused: 1\n';
    const tpl = files.find((f) => f.path.includes('deployment'))!;
    tpl.content = tpl.content.replace(
      '{{ .Values.image.pullPolicy | quote }}',
      '{{ .Values.image.policy | quote }}',
    );
    files.find((f) => f.path === 'Chart.yaml')!.content = 'apiVersion: v1\nname: Bad_Name\nversion: one\n';
    const problems = lintChart(files).map((p) => `${p.file}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Chart.yaml: apiVersion must be v2',
        'Chart.yaml: name must be a DNS-1123 label',
        'Chart.yaml: version must be SemVer 2',
        'values.yaml: unused is defined but no template uses it',
        'values.yaml: image.pullPolicy is defined but no template uses it',
        expect.stringMatching(/deployment.*\.Values\.image\.policy, which values\.yaml does not define/),
      ]),
    );
  });

  it('is written by `generate --env k8s` next to the manifests (the reference chart: QA demo, tenant demo)', async () => {
    const out = tempDir();
    const files = helmChartFiles(referenceInput());
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'greentic.yaml'),
      formatDescription({
        ...referenceInput().description,
        target: { kind: 'k8s', runner: { flows: [QA_FLOW] } },
      }),
    );
    const code = await runDeployerCli(['generate', '--env', 'k8s', '--out', out], {
      stdout: () => {},
      stderr: () => {},
      cwd,
      env: { HOME: cwd },
    });
    expect(code).toBe(0);
    const dir = join(out, 'helm', CHART_NAME);
    const written = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
    expect(written).toEqual(files.map((f) => f.path).sort());
    for (const f of files) expect(readFileSync(join(dir, f.path), 'utf8'), f.path).toBe(f.content);
    expect(lintChart(files)).toEqual([]);
    // a chart is not committed to this repository: Biome formats YAML and would break the {{ }} templates
    expect(existsSync(join(REPO_ROOT, 'packages', 'deployer', 'helm'))).toBe(false);
  });
});
