/**
 * Secrets into components, end to end: a pack whose component declares `api_token` is loaded into a pack store, and
 * `greentic-runner run-flow`/`chat` run it with the runner platform — providers environment, mounted files and the
 * encrypted file store under GREENTIC_HOME, the tenant allow-list from `<secrets dir>/allow-list.yaml`. A tenant the
 * allow-list grants the key gets its own value; one it does not is denied (audited, and the flow routes on
 * `permission_denied`); another tenant's value is never handed over. No value appears in any output, log or span.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EncryptedFileSecretsProvider, envKeyForUri } from '@greentic/secrets';
import { createLogger } from '@greentic/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRunnerCli } from '../src/cli.js';
import { envelopeFromInput } from '../src/input.js';
import { loadPackIntoStore } from '../src/packs/load.js';
import { packEngine } from '../src/packs/run.js';
import { resolvePackSettings } from '../src/packs/settings.js';
import { createPlatform, platformSecrets } from '../src/platform/index.js';
import { OtlpJsonReceiver, platformToolBytes, toolManifest, toolPack } from './platform-support.js';

const PACK_ID = 'test.secrets';
const MASTER_KEY = 'platform-secrets-test-master-key-0123456789';
const VALUES = {
  acme: 'acme-api-token-0123456789abcdef', // 31 characters, in the encrypted file store
  hooli: 'hooli-mounted-token-42', // 22, a mounted file
  umbrella: 'umbrella-env-token-xyz-7', // 24, an environment variable
};
const FLOW = `id: main
type: messaging
nodes:
  read:
    component.exec: { component: tool, input: "api_token" }
    operation: secret
    routing:
      - { status: error, condition: 'prev.error.code == "permission_denied"', to: denied }
      - { status: error, condition: 'prev.error.code == "not_found"', to: missing }
      - { to: got }
  got:
    template: "got an API token of {{prev}} characters"
    routing: out
  denied:
    template: "this tenant may not use the API token"
    routing: out
  missing:
    template: "no API token is set for this tenant"
    routing: out
`;

let root: string;
let env: Record<string, string>;
const receiver = new OtlpJsonReceiver();
/** Everything any run printed, for the leak check. */
const printed: string[] = [];

async function cli(args: string[], stdinLines?: string[], extraEnv: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await runRunnerCli(args, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    env: { ...env, ...extraEnv },
    isTTY: false,
    ...(stdinLines ? { stdin: Readable.from(stdinLines.map((l) => `${l}\n`)) } : {}),
  });
  printed.push(out, err);
  return { code, out, err };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gt-platform-secrets-'));
  const home = join(root, 'greentic');
  const secretsDir = join(home, 'secrets');
  const mountDir = join(root, 'mounted');
  mkdirSync(secretsDir, { recursive: true });
  mkdirSync(join(mountDir, 'dev', 'hooli', '_', PACK_ID), { recursive: true });
  writeFileSync(join(mountDir, 'dev', 'hooli', '_', PACK_ID, 'api_token'), `${VALUES.hooli}\n`);
  await receiver.start();
  env = {
    HOME: root,
    GREENTIC_HOME: home,
    GREENTIC_SECRETS_MASTER_KEY: MASTER_KEY,
    GREENTIC_SECRETS_MOUNT_DIR: mountDir,
    [envKeyForUri(`secrets://dev/umbrella/_/${PACK_ID}/api_token`)]: VALUES.umbrella,
    LOG_LEVEL: 'debug',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl,
  };
  // the operator's store (greentic-secrets' format; a cheap KDF for the test) and allow-list
  const store = new EncryptedFileSecretsProvider({
    dir: secretsDir,
    masterKey: MASTER_KEY,
    kdf: { N: 2 ** 10 },
  });
  await store.put(`secrets://dev/acme/_/${PACK_ID}/api_token`, VALUES.acme);
  await store.put(`secrets://dev/acme/_/${PACK_ID}/other_token`, 'acme-other-not-declared');
  writeFileSync(
    join(secretsDir, 'allow-list.yaml'),
    [
      '# which tenant may read which secret (docs/secrets.md)',
      'tenants:',
      '  acme: { allow: ["api_token"] }',
      `  globex: { allow: ["${PACK_ID}/*"] }`,
      '  hooli: { allow_env: ["API_TOKEN"] }',
      '  umbrella: { allow: ["api_*"] }',
      '',
    ].join('\n'),
  );

  const bytes = await platformToolBytes();
  const pack = await toolPack(join(root, 'pack'), {
    packId: PACK_ID,
    flows: { main: FLOW },
    manifest: toolManifest(bytes, { secrets: ['api_token'] }),
    bytes,
  });
  await loadPackIntoStore({ pack, allowUnsigned: true, settings: resolvePackSettings({ env }) });
}, 180_000);

afterAll(async () => {
  await receiver.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('secrets for pack components (run-flow and chat)', () => {
  it('hands a tenant the value its allow-list grants, from each provider', async () => {
    for (const [tenant, value] of Object.entries(VALUES)) {
      const r = await cli(['run-flow', '--tenant', tenant, '--input', 'hi']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(`got an API token of ${value.length} characters\n`);
    }
  });

  it('denies a tenant the allow-list does not name: the flow routes on permission_denied, the audit says why', async () => {
    const r = await cli(['run-flow', '--tenant', 'initech', '--input', 'hi', '--json']);
    expect(r.code).toBe(0);
    const turn = JSON.parse(r.out);
    expect(turn).toMatchObject({ status: 'done', trail: ['read', 'denied'], pack: { id: PACK_ID } });
    expect(turn.replies.map((x: { text: string }) => x.text)).toEqual([
      'this tenant may not use the API token',
    ]);
    const logs = r.err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.find((l) => l.secrets_audit)?.secrets_audit).toMatchObject({
      decision: 'deny',
      reason: 'not_allowed',
      uri: `secrets://dev/initech/_/${PACK_ID}/api_token`,
      pack: PACK_ID,
      component: 'tool',
      ctx: { env: 'dev', tenant: 'initech', flow_id: 'main', node_id: 'read' },
    });
    expect(logs.find((l) => l.policy)).toMatchObject({
      level: 40,
      tenant: 'initech',
      node: 'read',
      policy: { decision: 'deny', capability: 'secrets', resource: 'api_token', source: 'secrets-service' },
    });
  });

  it("never gives tenant B tenant A's secret", async () => {
    // globex is allowed the key but has no value of its own: nothing falls back to acme's
    const r = await cli(['run-flow', '--tenant', 'globex', '--input', 'hi']);
    expect(r.out).toBe('no API token is set for this tenant\n');
    // and a team of acme reads acme's tenant-wide value (the team → tenant fallback stays inside the tenant)
    const team = await cli(['run-flow', '--tenant', 'acme', '--team', 'support', '--input', 'hi']);
    expect(team.out).toBe(`got an API token of ${VALUES.acme.length} characters\n`);
  });

  it('runs the pack in chat too', async () => {
    const r = await cli(['chat', '--tenant', 'acme', '--start', 'hi'], ['again', '/quit']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`Chatting with pack ${PACK_ID} 0.1.0 as tenant acme`);
    expect(r.out.split('\n').filter((l) => l.startsWith('bot>'))).toEqual([
      `bot> got an API token of ${VALUES.acme.length} characters`,
      `bot> got an API token of ${VALUES.acme.length} characters`,
    ]);
  });

  it('records every decision in the service audit (in-process, the same platform the CLI builds)', async () => {
    const platform = await createPlatform({
      env,
      logger: createLogger({ env, destination: { write: (line: string) => void printed.push(line) } }),
    });
    const pe = await packEngine({ tenant: 'initech', settings: resolvePackSettings({ env }), platform });
    try {
      const say = (tenant: string) =>
        pe.engine.handleMessage(envelopeFromInput({ text: 'hi' }, { env: 'dev', tenant }));
      await say('initech');
      await say('acme');
      expect(platform.secrets.audit.records().map((x) => [x.decision, x.reason, x.uri])).toEqual([
        ['deny', 'not_allowed', `secrets://dev/initech/_/${PACK_ID}/api_token`],
        ['allow', 'granted', `secrets://dev/acme/_/${PACK_ID}/api_token`],
      ]);
      expect(JSON.stringify(platform.secrets.audit.records())).not.toContain(VALUES.acme);
    } finally {
      await pe.close();
      await platform.close();
    }
  });

  it('never prints, logs or exports a secret value', async () => {
    expect(receiver.spans().length).toBeGreaterThan(0);
    const everything = [...printed, ...receiver.bodies].join('\n');
    for (const value of [...Object.values(VALUES), 'acme-other-not-declared', MASTER_KEY])
      expect(everything).not.toContain(value);
  });
});

describe('platform secrets configuration', () => {
  it('finds the store and allow-list under GREENTIC_HOME, or where the variables say', () => {
    const home = mkdtempSync(join(tmpdir(), 'gt-platform-home-'));
    try {
      const dflt = platformSecrets({ mountDir: false }, { GREENTIC_HOME: home });
      expect(dflt.dir).toBe(join(home, 'secrets'));
      expect(dflt.allowListSource).toBe('none');
      expect(dflt.store?.hasKey).toBe(false);
      const list = join(home, 'acl.json');
      writeFileSync(list, JSON.stringify({ tenants: { acme: { allow: ['*'] } } }));
      const keyFile = join(home, 'master.key');
      writeFileSync(keyFile, `${MASTER_KEY}\n`);
      const named = platformSecrets(
        { mountDir: false },
        {
          GREENTIC_HOME: home,
          GREENTIC_SECRETS_DIR: join(home, 'elsewhere'),
          GREENTIC_SECRETS_ALLOW_LIST: list,
          GREENTIC_SECRETS_MASTER_KEY_FILE: keyFile,
        },
      );
      expect(named.dir).toBe(join(home, 'elsewhere'));
      expect(named.allowListSource).toBe(list);
      expect(named.store?.hasKey).toBe(true);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses a malformed allow-list with the file and the JSON pointer (run-flow exits 1)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gt-platform-bad-'));
    try {
      mkdirSync(join(home, 'secrets'));
      writeFileSync(
        join(home, 'secrets', 'allow-list.json'),
        '{"tenants": {"acme": {"allow": "api_token"}}}',
      );
      expect(() => platformSecrets({ mountDir: false }, { GREENTIC_HOME: home })).toThrow(
        /allow-list\.json: .*\/tenants\/acme\/allow/,
      );
      writeFileSync(join(home, 'secrets', 'allow-list.json'), '{"tenants": ');
      const r = await cli(['run-flow', '--tenant', 'acme', '--input', 'hi'], undefined, {
        GREENTIC_HOME: home,
      });
      // the pack store is elsewhere (this GREENTIC_HOME has none), but the platform is built first
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /error GT_RUNNER_CONFIG: the secrets allow-list .*allow-list\.json is not valid JSON or YAML/,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
