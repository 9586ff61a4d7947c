// The Kubernetes target: every generated object is validated against the Kubernetes schemas (kubernetes-models),
// and its wiring — config keys, env names, ports, probe paths — is checked against the runner itself.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG, ENV_OVERRIDES, loadRunnerConfig, RunnerDaemon } from '@greentic/runner';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  createDescription,
  type EnvironmentDescription,
  type K8sObject,
  k8sArtifacts,
  k8sObjects,
  k8sValues,
  literalValues,
  readPackInfo,
  type TargetInput,
} from '../src/index.js';
import { cleanupDirs, HELLO_PACK, tempDir } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents are untyped
type Json = any;

afterEach(cleanupDirs);

// biome-ignore lint/suspicious/noExplicitAny: model constructors take each kind's own interface
const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function input(mutate: (d: EnvironmentDescription) => void = () => {}): TargetInput {
  const d = createDescription({
    tenant: 'acme',
    connectors: ['messaging.telegram'],
    publicUrl: 'https://bot.example.com',
    target: 'k8s',
  });
  mutate(d);
  return { description: d, dir: tempDir(), packs: [readPackInfo(HELLO_PACK)] };
}

function objects(i: TargetInput): K8sObject[] {
  return k8sObjects(i, literalValues(k8sValues(i)));
}

const find = (objs: K8sObject[], kind: string, name?: string) =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name)) as
    | (K8sObject & Record<string, Json>)
    | undefined;

function validateAll(objs: K8sObject[]) {
  for (const o of objs) {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    expect(Model, `a kubernetes-models class for ${o.apiVersion}/${o.kind}`).toBeDefined();
    const model = new Model!(o);
    try {
      model.validate();
    } catch (e) {
      throw new Error(`${o.kind}/${o.metadata.name} is not valid: ${(e as Error).message}`);
    }
  }
}

describe('k8s manifests', () => {
  it('validates every generated manifest against the Kubernetes schemas (statefulset mode)', () => {
    const i = input();
    const objs = objects(i);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/acme-dev-runner',
      'ConfigMap/acme-dev-runner-config',
      'ConfigMap/acme-dev-runner-flows',
      'Deployment/acme-dev-runner',
      'Service/acme-dev-runner',
      'HorizontalPodAutoscaler/acme-dev-runner',
      'PodDisruptionBudget/acme-dev-runner',
      'NetworkPolicy/acme-dev-runner',
      'Service/acme-dev-runner-redis',
      'StatefulSet/acme-dev-runner-redis',
      'NetworkPolicy/acme-dev-runner-redis',
      'Service/acme-dev-runner-nats',
      'StatefulSet/acme-dev-runner-nats',
      'NetworkPolicy/acme-dev-runner-nats',
    ]);
    validateAll(objs);
    // and the files written by the target, parsed back from YAML
    const files = k8sArtifacts(i).filter((f) => /^manifests\/\d+-.*\.yaml$/.test(f.path));
    expect(files).toHaveLength(objs.length);
    validateAll(files.map((f) => parseYaml(f.content) as K8sObject));
  });

  it('validates the external-endpoints variant, which reads credentials from Secret keys', () => {
    const i = input((d) => {
      d.target.k8s = {
        namespace: 'bots',
        redis: { mode: 'external', url_secret: { name: 'redis-creds', key: 'url' } },
        nats: { mode: 'external', url: 'nats://nats.infra:4223' },
        ingress_namespaces: ['ingress-nginx'],
        otlp_endpoint: 'http://otel-collector.observability:4318',
      };
    });
    const objs = objects(i);
    validateAll(objs);
    expect(objs.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    const c = find(objs, 'Deployment')!.spec.template.spec.containers[0];
    expect(c.env).toContainEqual({
      name: 'GREENTIC_RUNNER_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'redis-creds', key: 'url' } },
    });
    expect(c.env).toContainEqual({
      name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      value: 'http://otel-collector.observability:4318',
    });
    const config = parseYaml(find(objs, 'ConfigMap', 'acme-dev-runner-config')!.data['runner.yaml']);
    expect(config.nats.url).toBe('nats://nats.infra:4223');
    expect(config.stores.redis.url).toBeUndefined();
    const np = find(objs, 'NetworkPolicy', 'acme-dev-runner')!;
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values).toEqual([
      'ingress-nginx',
    ]);
    const egressPorts = np.spec.egress.flatMap((e: { ports: { port: number }[] }) =>
      e.ports.map((p) => p.port),
    );
    expect(egressPorts).toEqual(expect.arrayContaining([53, 6379, 4223, 443, 4318]));
    expect(objs.every((o) => o.metadata.namespace === 'bots')).toBe(true);
  });

  it('wires the Deployment to the runner\u2019s real config: the ConfigMap loads, env names exist, ports agree', () => {
    const i = input();
    const objs = objects(i);
    const deployment = find(objs, 'Deployment')!;
    const c = deployment.spec.template.spec.containers[0];
    const configText = find(objs, 'ConfigMap', 'acme-dev-runner-config')!.data['runner.yaml'];
    const dir = tempDir();
    const file = join(dir, 'runner.yaml');
    writeFileSync(file, configText);
    const env = Object.fromEntries(
      (c.env as { name: string; value?: string }[]).filter((e) => e.value).map((e) => [e.name, e.value]),
    );
    const cfg = loadRunnerConfig(file, { env });
    expect(cfg.stores.kind).toBe('redis');
    expect(cfg.stores.redis.url).toBe('redis://acme-dev-runner-redis:6379');
    expect(cfg.nats).toMatchObject({ enabled: true, url: 'nats://acme-dev-runner-nats:4222' });
    expect(cfg.http).toEqual({ host: '0.0.0.0', port: DEFAULT_CONFIG.http.port });
    expect(cfg.flows.paths).toEqual(['/etc/greentic/flows']);
    expect(cfg.tenancy.env).toBe('dev');
    // ports: container, Service, NetworkPolicy, probes all name the runner's port
    expect(c.ports).toEqual([{ name: 'http', containerPort: cfg.http.port, protocol: 'TCP' }]);
    expect(find(objs, 'Service', 'acme-dev-runner')!.spec.ports[0]).toMatchObject({
      port: cfg.http.port,
      targetPort: 'http',
    });
    expect(find(objs, 'NetworkPolicy', 'acme-dev-runner')!.spec.ingress[0].ports).toEqual([
      { protocol: 'TCP', port: cfg.http.port },
    ]);
    // the args point at the mounted config; the projected volume puts runner.yaml and flows/ there
    expect(c.args).toEqual(['--config', '/etc/greentic/runner.yaml']);
    expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/greentic', readOnly: true });
    const sources = deployment.spec.template.spec.volumes[0].projected.sources;
    expect(sources[1].configMap.items).toEqual([
      {
        key: 'dev.greentic.deployer-hello__hello.ygtc',
        path: 'flows/dev.greentic.deployer-hello__hello.ygtc',
      },
    ]);
    // every GREENTIC_RUNNER_* variable the manifests or the Secret template use is one the runner reads
    const runnerVars = new Set(ENV_OVERRIDES.map((o) => o.name));
    for (const e of c.env as { name: string }[]) {
      if (e.name.startsWith('GREENTIC_RUNNER_')) expect(runnerVars.has(e.name), e.name).toBe(true);
      else expect(e.name).toMatch(/^OTEL_/);
    }
    const example = k8sArtifacts(i).find((f) => f.path === 'secrets.env.example')!.content;
    for (const m of example.matchAll(/^(GREENTIC_RUNNER_\w+)=/gm))
      expect(runnerVars.has(m[1]!), m[1]).toBe(true);
    expect(example).toMatch(/^GREENTIC_SECRET__DEV__ACME_____TELEGRAM__BOT_TOKEN=$/m);
  });

  it('probes paths the real runner serves, on the port it listens on', async () => {
    const objs = objects(input());
    const c = find(objs, 'Deployment')!.spec.template.spec.containers[0];
    const dir = tempDir();
    const file = join(dir, 'runner.yaml');
    writeFileSync(file, find(objs, 'ConfigMap', 'acme-dev-runner-config')!.data['runner.yaml']);
    mkdirSync(join(dir, 'flows'));
    // the same config, run locally: memory stores and no NATS (no servers needed), any free port
    const config = loadRunnerConfig(file, {
      env: {},
      overrides: {
        http: { host: '127.0.0.1', port: 0 },
        stores: { kind: 'memory' },
        nats: { enabled: false },
        flows: { paths: [join(HELLO_PACK, '..', 'flows', 'hello.ygtc')] },
      },
    });
    // the Secret's keys, as envFrom puts them in the pod: the runner resolves the connectors' secrets:// refs
    vi.stubEnv('GREENTIC_SECRET__DEV__ACME_____TELEGRAM__BOT_TOKEN', '123456:TEST-token');
    vi.stubEnv('GREENTIC_SECRET__DEV__ACME_____TELEGRAM__WEBHOOK_SECRET', 'a-webhook-secret');
    const daemon = new RunnerDaemon({ config });
    await daemon.start();
    try {
      const base = `http://127.0.0.1:${daemon.address.port}`;
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = c[probe].httpGet;
        expect(get.port, probe).toBe('http');
        const res = await fetch(`${base}${get.path}`);
        expect(res.status, `${probe} ${get.path}`).toBe(200);
      }
      // the Telegram webhook route the deployer registers exists on the real runner
      const hook = await fetch(`${base}/webhooks/telegram/telegram`, { method: 'POST', body: '{}' });
      expect(hook.status).not.toBe(404);
    } finally {
      await daemon.stop();
      vi.unstubAllEnvs();
    }
  });

  it('runs non-root with a read-only root filesystem, no capabilities and the RuntimeDefault seccomp profile', () => {
    const objs = objects(input());
    for (const o of objs.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet') as Json[]) {
      const pod = o.spec.template.spec;
      expect(pod.securityContext, o.metadata.name).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers)
        expect(c.securityContext, `${o.metadata.name}/${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: pod.securityContext.runAsUser,
          runAsGroup: pod.securityContext.runAsGroup,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
    }
  });

  it('shuts down gracefully: preStop pause, then longer grace than the runner\u2019s drain timeout', () => {
    const pod = find(objects(input()), 'Deployment')!.spec.template.spec;
    const c = pod.containers[0];
    expect(c.lifecycle.preStop.exec.command[0]).toBe('sleep');
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      DEFAULT_CONFIG.shutdown.timeoutMs / 1000 + preStop,
    );
    expect(find(objects(input()), 'Deployment')!.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('scales with an autoscaling/v2 HPA and keeps one pod through disruptions', () => {
    const objs = objects(
      input((d) => (d.target.k8s = { autoscaling: { min_replicas: 3, max_replicas: 7 } })),
    );
    const hpa = find(objs, 'HorizontalPodAutoscaler')!;
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'acme-dev-runner' },
      minReplicas: 3,
      maxReplicas: 7,
    });
    expect(find(objs, 'Deployment')!.spec.replicas).toBeUndefined();
    expect(find(objs, 'PodDisruptionBudget')!.spec.minAvailable).toBe(1);
  });

  it('restricts traffic: ingress to the HTTP port, egress to DNS, Redis, NATS and the provider hosts', () => {
    const objs = objects(input());
    const np = find(objs, 'NetworkPolicy', 'acme-dev-runner')!;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const [dns, redis, nats, providers] = np.spec.egress;
    expect(dns.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(redis).toEqual({
      to: [
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': 'redis',
              'app.kubernetes.io/instance': 'acme-dev-runner',
            },
          },
        },
      ],
      ports: [{ protocol: 'TCP', port: 6379 }],
    });
    expect(nats.ports).toEqual([{ protocol: 'TCP', port: 4222 }]);
    expect(providers.to[0].ipBlock.except).toContain('10.0.0.0/8');
    expect(providers.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    expect(np.metadata.annotations['greentic.ai/egress-hosts']).toBe('api.telegram.org:443');
    // Redis and NATS accept only the runner pods
    expect(
      find(objs, 'NetworkPolicy', 'acme-dev-runner-redis')!.spec.ingress[0].from[0].podSelector.matchLabels,
    ).toEqual({
      'app.kubernetes.io/name': 'greentic-runner',
      'app.kubernetes.io/instance': 'acme-dev-runner',
    });
  });

  it('runs NATS with JetStream on a PVC and Redis with noeviction on a PVC', () => {
    const objs = objects(input());
    const nats = find(objs, 'StatefulSet', 'acme-dev-runner-nats')!;
    expect(nats.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining(['--jetstream', '--store_dir', '/data']),
    );
    expect(nats.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    const redis = find(objs, 'StatefulSet', 'acme-dev-runner-redis')!;
    expect(redis.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining(['--maxmemory-policy', 'noeviction']),
    );
    expect(redis.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
  });

  it('never writes a secret value or a Secret object', () => {
    const i = input();
    const all = k8sArtifacts(i)
      .map((f) => f.content)
      .join('\n');
    expect(all).not.toMatch(/^kind: Secret$/m);
    expect(all).not.toMatch(/123456:|hunter2/);
    const c = find(objects(i), 'Deployment')!.spec.template.spec.containers[0];
    expect(c.envFrom).toEqual([{ secretRef: { name: 'acme-dev-runner-secrets', optional: true } }]);
    expect(readFileSync(HELLO_PACK, 'utf8')).toContain('pack_id');
  });
});
