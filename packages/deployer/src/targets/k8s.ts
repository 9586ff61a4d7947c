/**
 * k8s: manifests for the runner (Deployment, Service, ConfigMaps, ServiceAccount, HorizontalPodAutoscaler,
 * PodDisruptionBudget, NetworkPolicy) and, unless external endpoints are configured, Redis and NATS (JetStream) as
 * StatefulSets with PVCs. Secrets are only referenced (envFrom / secretKeyRef), never written.
 *
 * The objects are built from {@link K8sValues} through a value accessor, so the Helm chart (helm.ts) is generated
 * from the very same objects with `{{ .Values.x }}` in place of the values.
 */
import { envKeyForUri } from '@greentic/secrets';
import { stringify as toYaml } from 'yaml';
import type { BackingServiceSpec } from '../description.js';
import {
  CONTAINER,
  checkRunnerConfig,
  connectorsRunnerSection,
  LIVENESS_PATH,
  READINESS_PATH,
  RUNNER_ENV,
  RUNNER_HTTP_PORT,
  RUNNER_SHUTDOWN_TIMEOUT_MS,
  type RunnerConfigInput,
} from '../runner-wiring.js';
import {
  type Artifact,
  DEFAULT_IMAGE,
  flowFiles,
  providerEndpoints,
  readFlow,
  sha256,
  type TargetInput,
} from './common.js';

/** The tunable values (Helm `values.yaml`). */
export interface K8sValues {
  namespace: string;
  image: { repository: string; tag: string; pullPolicy: string };
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  autoscaling: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number };
  redis: { image: string; storage: string };
  nats: { image: string; storage: string };
}

/** Returns a value: the real one (manifests) or a placeholder token (chart templates). */
export type ValueAccessor = <T extends string | number>(path: string) => T;

/** A Kubernetes object as plain JSON. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
  [k: string]: unknown;
};

export const REDIS_PORT = 6379;
export const NATS_PORT = 4222;
export const NATS_MONITOR_PORT = 8222;
const PRE_STOP_SECONDS = 5;
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'];

export function k8sValues(input: TargetInput): K8sValues {
  const k = input.description.target.k8s ?? {};
  const image = k.image ?? DEFAULT_IMAGE;
  return {
    namespace: k.namespace ?? 'greentic',
    image: {
      repository: image.repository,
      tag: image.tag,
      pullPolicy: k.image?.pull_policy ?? 'IfNotPresent',
    },
    resources: {
      requests: {
        cpu: k.resources?.requests?.cpu ?? '250m',
        memory: k.resources?.requests?.memory ?? '256Mi',
      },
      limits: { cpu: k.resources?.limits?.cpu ?? '1', memory: k.resources?.limits?.memory ?? '512Mi' },
    },
    autoscaling: {
      minReplicas: k.autoscaling?.min_replicas ?? 2,
      maxReplicas: k.autoscaling?.max_replicas ?? 10,
      targetCPUUtilizationPercentage: k.autoscaling?.target_cpu_percent ?? 70,
    },
    redis: { image: k.redis?.image ?? 'redis:7.4', storage: k.redis?.storage ?? '1Gi' },
    nats: { image: k.nats?.image ?? 'nats:2.11', storage: k.nats?.storage ?? '2Gi' },
  };
}

export function valueAt(values: unknown, path: string): unknown {
  let cur = values;
  for (const seg of path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[seg];
  return cur;
}

export const literalValues =
  (values: K8sValues): ValueAccessor =>
  <T extends string | number>(path: string) => {
    const v = valueAt(values, path);
    if (v === undefined) throw new Error(`no value ${path}`);
    return v as T;
  };

function backing(spec: BackingServiceSpec | undefined): BackingServiceSpec {
  return spec ?? { mode: 'statefulset' };
}

function portOf(url: string | undefined, fallback: number): number {
  if (!url) return fallback;
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : fallback;
  } catch {
    return fallback;
  }
}

export interface K8sNames {
  release: string;
  config: string;
  flows: string;
  secret: string;
  redis: string;
  nats: string;
}

export function k8sNames(input: TargetInput): K8sNames {
  const k = input.description.target.k8s ?? {};
  const release = k.release ?? `${input.description.name}-runner`.slice(0, 40).replace(/-+$/, '');
  return {
    release,
    config: `${release}-config`,
    flows: `${release}-flows`,
    secret: k.secret_name ?? `${release}-secrets`,
    redis: `${release}-redis`,
    nats: `${release}-nats`,
  };
}

/** The runner config the ConfigMap holds. No secret in it: credentials come from the Secret through env. */
export function k8sRunnerConfig(input: TargetInput): RunnerConfigInput {
  const d = input.description;
  const k = d.target.k8s ?? {};
  const n = k8sNames(input);
  const redis = backing(k.redis);
  const nats = backing(k.nats);
  const r = d.target.runner ?? {};
  const redisUrl = redis.mode === 'statefulset' ? `redis://${n.redis}:${REDIS_PORT}` : redis.url;
  const natsUrl = nats.mode === 'statefulset' ? `nats://${n.nats}:${NATS_PORT}` : nats.url;
  return {
    http: { host: '0.0.0.0', port: r.port ?? RUNNER_HTTP_PORT },
    stores: {
      kind: 'redis',
      redis: { ...(redisUrl ? { url: redisUrl } : {}), namespace: `greentic:${d.environment}` },
    },
    nats: { enabled: true, ...(natsUrl ? { url: natsUrl } : {}) },
    ...(flowFiles(input).length > 0 ? { flows: { paths: [CONTAINER.flowsDir] } } : {}),
    tenancy: { env: d.environment, ...(r.tenant ? { tenant: r.tenant } : {}) },
    shutdown: { timeoutMs: RUNNER_SHUTDOWN_TIMEOUT_MS },
    log: { level: r.log_level ?? 'info' },
    // secrets:// references resolve from the GREENTIC_SECRET__… keys of the Secret (envFrom)
    ...connectorsRunnerSection(d, input.telegramApiBase ? { telegramApiBase: input.telegramApiBase } : {}),
  };
}

const restrictedContainer = (uid: number) => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});
const restrictedPod = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});

/** Every object, in apply order. */
export function k8sObjects(input: TargetInput, v: ValueAccessor): K8sObject[] {
  const d = input.description;
  const k = d.target.k8s ?? {};
  const n = k8sNames(input);
  const ns = v<string>('namespace');
  const config = k8sRunnerConfig(input);
  const port = config.http?.port ?? RUNNER_HTTP_PORT;
  const configText = toYaml(config);
  const flows = flowFiles(input);
  const redis = backing(k.redis);
  const nats = backing(k.nats);
  const common = {
    'app.kubernetes.io/part-of': 'greentic',
    'app.kubernetes.io/managed-by': 'greentic-deployer',
  };
  const sel = (component: string) => ({
    'app.kubernetes.io/name': component,
    'app.kubernetes.io/instance': n.release,
  });
  const labels = (component: string) => ({ ...sel(component), ...common });
  const meta = (name: string, component: string, extra: Record<string, unknown> = {}) => ({
    name,
    namespace: ns,
    labels: labels(component),
    ...extra,
  });

  const env: Record<string, unknown>[] = [
    { name: 'OTEL_SERVICE_NAME', value: 'greentic-runner' },
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `deployment.environment=${d.environment}` },
  ];
  if (k.otlp_endpoint) env.push({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: k.otlp_endpoint });
  for (const [spec, name] of [
    [redis, RUNNER_ENV.redisUrl],
    [nats, RUNNER_ENV.natsUrl],
  ] as const) {
    if (spec.mode === 'external' && spec.url_secret)
      env.push({
        name,
        valueFrom: { secretKeyRef: { name: spec.url_secret.name, key: spec.url_secret.key } },
      });
  }

  const objects: K8sObject[] = [];
  objects.push({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(n.release, 'greentic-runner'),
    automountServiceAccountToken: false,
  });
  objects.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(n.config, 'greentic-runner'),
    data: { 'runner.yaml': configText },
  });
  if (flows.length > 0)
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(n.flows, 'greentic-runner'),
      data: Object.fromEntries(flows.map((f) => [f.name, readFlow(f)])),
    });

  const grace = Math.ceil(RUNNER_SHUTDOWN_TIMEOUT_MS / 1000) + PRE_STOP_SECONDS + 5;
  const projected: Record<string, unknown>[] = [
    { configMap: { name: n.config, items: [{ key: 'runner.yaml', path: 'runner.yaml' }] } },
  ];
  if (flows.length > 0)
    projected.push({
      configMap: { name: n.flows, items: flows.map((f) => ({ key: f.name, path: `flows/${f.name}` })) },
    });
  objects.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(n.release, 'greentic-runner'),
    spec: {
      revisionHistoryLimit: 5,
      selector: { matchLabels: sel('greentic-runner') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels('greentic-runner'),
          annotations: {
            'greentic.ai/config-sha256': sha256(configText + flows.map((f) => readFlow(f)).join('\0')),
          },
        },
        spec: {
          serviceAccountName: n.release,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: grace,
          securityContext: restrictedPod(CONTAINER.uid),
          containers: [
            {
              name: 'runner',
              image: `${v<string>('image.repository')}:${v<string>('image.tag')}`,
              imagePullPolicy: v<string>('image.pullPolicy'),
              args: ['--config', CONTAINER.configPath],
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              env,
              envFrom: [{ secretRef: { name: n.secret, optional: true } }],
              startupProbe: {
                httpGet: { path: LIVENESS_PATH, port: 'http' },
                periodSeconds: 2,
                failureThreshold: 30,
              },
              livenessProbe: {
                httpGet: { path: LIVENESS_PATH, port: 'http' },
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: READINESS_PATH, port: 'http' },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 2,
              },
              resources: {
                requests: {
                  cpu: v<string>('resources.requests.cpu'),
                  memory: v<string>('resources.requests.memory'),
                },
                limits: {
                  cpu: v<string>('resources.limits.cpu'),
                  memory: v<string>('resources.limits.memory'),
                },
              },
              securityContext: restrictedContainer(CONTAINER.uid),
              lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
              volumeMounts: [
                { name: 'config', mountPath: CONTAINER.configDir, readOnly: true },
                { name: 'tmp', mountPath: CONTAINER.tmpDir },
              ],
            },
          ],
          volumes: [
            { name: 'config', projected: { sources: projected } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  });
  objects.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(n.release, 'greentic-runner'),
    spec: {
      type: 'ClusterIP',
      selector: sel('greentic-runner'),
      ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
    },
  });
  objects.push({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(n.release, 'greentic-runner'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: n.release },
      minReplicas: v<number>('autoscaling.minReplicas'),
      maxReplicas: v<number>('autoscaling.maxReplicas'),
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: {
              type: 'Utilization',
              averageUtilization: v<number>('autoscaling.targetCPUUtilizationPercentage'),
            },
          },
        },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  });
  objects.push({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(n.release, 'greentic-runner'),
    spec: { minAvailable: 1, selector: { matchLabels: sel('greentic-runner') } },
  });

  // --- NetworkPolicy of the runner
  const egress: Record<string, unknown>[] = [
    {
      to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
  ];
  for (const [spec, component, defaultPort, url] of [
    [redis, 'redis', REDIS_PORT, redis.url],
    [nats, 'nats', NATS_PORT, nats.url],
  ] as const) {
    egress.push(
      spec.mode === 'statefulset'
        ? {
            to: [{ podSelector: { matchLabels: sel(component) } }],
            ports: [{ protocol: 'TCP', port: defaultPort }],
          }
        : { ports: [{ protocol: 'TCP', port: portOf(url, defaultPort) }] },
    );
  }
  const providers = providerEndpoints(d);
  const providerPorts = [...new Set(providers.map((p) => p.port))].sort((a, b) => a - b);
  if (providerPorts.length > 0)
    egress.push({
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_RANGES } }],
      ports: providerPorts.map((p) => ({ protocol: 'TCP', port: p })),
    });
  if (k.otlp_endpoint)
    egress.push({
      ports: [
        { protocol: 'TCP', port: portOf(k.otlp_endpoint, k.otlp_endpoint.startsWith('https') ? 443 : 4318) },
      ],
    });
  const from = k.ingress_namespaces?.length
    ? [
        {
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: [...k.ingress_namespaces] },
            ],
          },
        },
      ]
    : undefined;
  objects.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(n.release, 'greentic-runner', {
      annotations: {
        'greentic.ai/egress-hosts': providers.map((p) => `${p.host}:${p.port}`).join(','),
      },
    }),
    spec: {
      podSelector: { matchLabels: sel('greentic-runner') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ...(from ? { from } : {}), ports: [{ protocol: 'TCP', port }] }],
      egress,
    },
  });

  // --- Redis and NATS
  if (redis.mode === 'statefulset') objects.push(...redisObjects(n, v, meta, sel));
  if (nats.mode === 'statefulset') objects.push(...natsObjects(n, v, meta, sel));
  return objects;
}

type Meta = (name: string, component: string, extra?: Record<string, unknown>) => Record<string, unknown>;
type Sel = (component: string) => Record<string, string>;

function backingPolicy(name: string, component: string, ports: number[], meta: Meta, sel: Sel): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(name, component) as K8sObject['metadata'],
    spec: {
      podSelector: { matchLabels: sel(component) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: sel('greentic-runner') } }],
          ports: ports.map((p) => ({ protocol: 'TCP', port: p })),
        },
      ],
    },
  };
}

function headlessService(
  name: string,
  component: string,
  ports: [string, number][],
  meta: Meta,
  sel: Sel,
): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, component) as K8sObject['metadata'],
    spec: {
      clusterIP: 'None',
      selector: sel(component),
      ports: ports.map(([pn, p]) => ({ name: pn, port: p, targetPort: pn, protocol: 'TCP' })),
    },
  };
}

function claim(v: ValueAccessor, path: string) {
  return [
    {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: v<string>(path) } } },
    },
  ];
}

function redisObjects(n: K8sNames, v: ValueAccessor, meta: Meta, sel: Sel): K8sObject[] {
  const uid = 999; // the redis user of the official image
  return [
    headlessService(n.redis, 'redis', [['redis', REDIS_PORT]], meta, sel),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(n.redis, 'redis') as K8sObject['metadata'],
      spec: {
        serviceName: n.redis,
        replicas: 1,
        selector: { matchLabels: sel('redis') },
        template: {
          metadata: { labels: (meta(n.redis, 'redis') as { labels: Record<string, string> }).labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPod(uid),
            containers: [
              {
                name: 'redis',
                image: v<string>('redis.image'),
                args: [
                  'redis-server',
                  '--appendonly',
                  'yes',
                  '--maxmemory-policy',
                  'noeviction',
                  '--dir',
                  '/data',
                ],
                ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
                livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: {
                  exec: { command: ['redis-cli', 'ping'] },
                  periodSeconds: 5,
                  timeoutSeconds: 2,
                },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                securityContext: restrictedContainer(uid),
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: claim(v, 'redis.storage'),
      },
    },
    backingPolicy(n.redis, 'redis', [REDIS_PORT], meta, sel),
  ];
}

function natsObjects(n: K8sNames, v: ValueAccessor, meta: Meta, sel: Sel): K8sObject[] {
  const uid = CONTAINER.uid;
  return [
    headlessService(
      n.nats,
      'nats',
      [
        ['client', NATS_PORT],
        ['monitor', NATS_MONITOR_PORT],
      ],
      meta,
      sel,
    ),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(n.nats, 'nats') as K8sObject['metadata'],
      spec: {
        serviceName: n.nats,
        replicas: 1,
        selector: { matchLabels: sel('nats') },
        template: {
          metadata: { labels: (meta(n.nats, 'nats') as { labels: Record<string, string> }).labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPod(uid),
            containers: [
              {
                name: 'nats',
                image: v<string>('nats.image'),
                args: ['--jetstream', '--store_dir', '/data', '--http_port', String(NATS_MONITOR_PORT)],
                ports: [
                  { name: 'client', containerPort: NATS_PORT, protocol: 'TCP' },
                  { name: 'monitor', containerPort: NATS_MONITOR_PORT, protocol: 'TCP' },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 10 },
                readinessProbe: {
                  httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' },
                  periodSeconds: 5,
                },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
                securityContext: restrictedContainer(uid),
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: claim(v, 'nats.storage'),
      },
    },
    backingPolicy(n.nats, 'nats', [NATS_PORT], meta, sel),
  ];
}

/** Multi-document YAML. */
export function toYamlDocuments(objects: unknown[]): string {
  return objects.map((o) => toYaml(o, { lineWidth: 0 })).join('---\n');
}

/** The keys the runner Secret may hold (names only: values never leave the secrets store). */
export function secretKeys(input: TargetInput): string[] {
  return [RUNNER_ENV.adminToken, ...input.description.secrets.map((s) => envKeyForUri(s.uri))];
}

export function k8sArtifacts(input: TargetInput): Artifact[] {
  const config = k8sRunnerConfig(input);
  const sample: Record<string, string> = {};
  const k = input.description.target.k8s ?? {};
  if (k.redis?.url_secret) sample[RUNNER_ENV.redisUrl] = 'redis://redis.example:6379';
  if (k.nats?.url_secret) sample[RUNNER_ENV.natsUrl] = 'nats://nats.example:4222';
  checkRunnerConfig(config, { env: sample, resource: 'artifacts:k8s/configmap' });
  const values = k8sValues(input);
  const objects = k8sObjects(input, literalValues(values));
  const n = k8sNames(input);
  const files: Artifact[] = objects.map((o, i) => ({
    path: `manifests/${String(i + 1).padStart(2, '0')}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`,
    content: toYaml(o, { lineWidth: 0 }),
  }));
  files.push({
    path: 'manifests/kustomization.yaml',
    content: toYaml({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: files.map((f) => f.path.slice('manifests/'.length)),
    }),
  });
  const keys = secretKeys(input);
  files.push({
    path: 'secrets.env.example',
    content: [
      `# Keys of the Secret "${n.secret}" (namespace ${values.namespace}) the runner reads through envFrom.`,
      '# Fill a copy OUTSIDE version control, then:',
      `#   kubectl -n ${values.namespace} create secret generic ${n.secret} --from-env-file=secrets.env`,
      '# Values of secrets bootstrap stored locally: greentic-secrets get <uri> (docs/deployer.md).',
      ...keys.map((key) => `${key}=`),
      '',
    ].join('\n'),
  });
  return files;
}
