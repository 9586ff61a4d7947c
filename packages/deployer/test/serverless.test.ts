// The serverless target: a stateless container configuration (config + env file) the runner accepts as is.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG, ENV_OVERRIDES, loadRunnerConfig } from '@greentic/runner';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  createDescription,
  LIVENESS_PATH,
  READINESS_PATH,
  readPackInfo,
  serverlessArtifacts,
  type TargetInput,
} from '../src/index.js';
import { cleanupDirs, HELLO_PACK, tempDir } from './helpers.js';

afterEach(cleanupDirs);

function input(): TargetInput {
  const d = createDescription({ tenant: 'acme', connectors: ['messaging.telegram'], target: 'serverless' });
  return { description: d, dir: tempDir(), packs: [readPackInfo(HELLO_PACK)] };
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not KEY=value: ${line}`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

describe('serverless target', () => {
  it('writes runner.yaml, runner.env, container.json, a Dockerfile and the flows', () => {
    expect(
      serverlessArtifacts(input())
        .map((a) => a.path)
        .sort(),
    ).toEqual([
      'Dockerfile',
      'container.json',
      'flows/dev.greentic.deployer-hello__hello.ygtc',
      'runner.env',
      'runner.yaml',
    ]);
  });

  it('is stateless: Redis stores and NATS, their URLs from the environment, as the runner reads it', () => {
    const files = serverlessArtifacts(input());
    const get = (p: string) => files.find((f) => f.path === p)!.content;
    const dir = tempDir();
    writeFileSync(join(dir, 'runner.yaml'), get('runner.yaml'));
    const env = parseEnvFile(get('runner.env'));
    const runnerVars = new Set(ENV_OVERRIDES.map((o) => o.name));
    for (const name of Object.keys(env))
      expect(runnerVars.has(name) || /^OTEL_|^GREENTIC_SECRET__/.test(name), name).toBe(true);
    // the platform fills the required URLs
    const cfg = loadRunnerConfig(join(dir, 'runner.yaml'), {
      env: {
        ...env,
        GREENTIC_RUNNER_REDIS_URL: 'redis://cache:6379',
        GREENTIC_RUNNER_NATS_URL: 'nats://bus:4222',
      },
    });
    expect(cfg.stores).toMatchObject({
      kind: 'redis',
      redis: { url: 'redis://cache:6379', namespace: 'greentic:dev' },
    });
    expect(cfg.nats).toMatchObject({ enabled: true, url: 'nats://bus:4222' });
    expect(cfg.http).toEqual({ host: '0.0.0.0', port: DEFAULT_CONFIG.http.port });
    expect(cfg.flows.paths).toEqual(['/etc/greentic/flows']);
    // nothing local but the read-only config and flows: no store on disk, no URL baked into the image
    expect(get('runner.yaml')).not.toMatch(/redis:\/\/|nats:\/\//);
    expect(parseYaml(get('runner.yaml')).stores.kind).toBe('redis');
    expect(env.GREENTIC_RUNNER_REDIS_URL).toBe('');
    expect(get('runner.env')).toMatch(/# REQUIRED, SECRET: redis:\/\//);
  });

  it('describes the container: probes on the runner\u2019s paths and port, secrets by name only', () => {
    const container = JSON.parse(
      serverlessArtifacts(input()).find((f) => f.path === 'container.json')!.content,
    );
    expect(container).toMatchObject({
      args: ['--config', '/etc/greentic/runner.yaml'],
      port: DEFAULT_CONFIG.http.port,
      stateless: true,
      readOnlyRootFilesystem: true,
      healthCheck: { path: LIVENESS_PATH, port: DEFAULT_CONFIG.http.port },
      readinessCheck: { path: READINESS_PATH },
      shutdown: { signal: 'SIGTERM' },
    });
    expect(container.shutdown.gracePeriodSeconds).toBeGreaterThan(DEFAULT_CONFIG.shutdown.timeoutMs / 1000);
    expect(container.secrets).toEqual(
      expect.arrayContaining([
        { name: 'GREENTIC_RUNNER_REDIS_URL', required: true },
        { name: 'GREENTIC_SECRET__DEV__ACME_____TELEGRAM__BOT_TOKEN', required: true },
      ]),
    );
    expect(container.env).not.toHaveProperty('GREENTIC_RUNNER_REDIS_URL');
  });
});
