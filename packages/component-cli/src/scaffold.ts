import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ComponentCliError } from './errors.js';
import { cliVersion } from './toolchain.js';
import { WORLDS } from './wit.js';

/** Component names: what upstream accepts as an operation/component id, and a safe folder and file name. */
export const COMPONENT_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;

export interface ScaffoldResult {
  dir: string;
  files: string[];
}

function manifest(name: string) {
  return {
    id: name,
    name,
    version: '0.1.0',
    world: WORLDS.tool,
    describe_export: 'describe',
    config_schema: { type: 'object', properties: {}, required: [], additionalProperties: false },
    operations: [
      {
        name: 'greet',
        input_schema: { type: 'object', properties: { name: { type: 'string' } } },
        output_schema: {
          type: 'object',
          required: ['message', 'greeted'],
          properties: { message: { type: 'string' }, greeted: { type: 'integer' } },
        },
      },
    ],
    default_operation: 'greet',
    supports: ['messaging'],
    profiles: { default: 'default', supported: ['default'] },
    capabilities: {
      wasi: { random: false, clocks: false },
      host: { state: { read: true, write: true, delete: false } },
    },
    limits: { memory_mb: 128, wall_time_ms: 10000 },
    artifacts: { component_wasm: `${name}.wasm` },
  };
}

const source = (name: string) => `/**
 * ${name}: a Greentic component (world ${WORLDS.tool}).
 * Build it with \`greentic-component build\`, try it with
 *   greentic-component test . --op greet --input '{"name":"Ada"}'
 */
import { defineComponent, fail, state } from '@greentic/component-cli/guest';

export const node = defineComponent({
  name: '${name}',
  version: '0.1.0',
  summary: 'Greets people and counts how many it has greeted',
  ops: {
    greet: {
      summary: 'Returns a greeting; counts greetings in the component state',
      input_schema: { type: 'object', properties: { name: { type: 'string' } } },
      run(input: { name?: unknown }) {
        if (input.name !== undefined && typeof input.name !== 'string') fail('invalid_input', '"name" must be a string');
        // State is scoped by the host to the caller's tenant and to this component (manifest: capabilities.host.state).
        const greeted = Number(state.readJson<number>('greetings') ?? 0) + 1;
        state.writeJson('greetings', greeted);
        return { message: \`Hello, \${input.name ?? 'world'}!\`, greeted };
      },
    },
  },
});
`;

const readme = (name: string) => `# ${name}

A Greentic component written in TypeScript. \`greentic-component build\` bundles \`src/index.ts\` with esbuild and turns
it into a WebAssembly component (ComponentizeJS) for the world \`${WORLDS.tool}\`.

\`\`\`sh
greentic-component build                      # → dist/${name}.wasm and dist/component.manifest.json
greentic-component inspect dist/${name}.wasm  # world, imports, exports, size, digests
greentic-component test . --op greet --input '{"name":"Ada"}' --state greetings=41
\`\`\`

- \`src/index.ts\` exports \`node\` (\`describe\` + \`invoke\`), built with \`defineComponent\` from
  \`@greentic/component-cli/guest\`, which also wraps the host services: \`http\`, \`secrets\`, \`state\`, \`log\`.
- Operations are synchronous; throw \`fail(code, message)\` to return a typed error (\`not_found\`, \`invalid_input\`,
  \`unavailable\`, \`timeout\`, …) a flow can route on with \`prev.error.code\`.
- \`component.manifest.json\` (upstream schema v1) says what the component may do; everything else is denied. Add
  \`capabilities.host.http.client: true\` and the Greentic-TS extension
  \`"x-greentic": {"network": {"egress": {"domains": ["api.example.com"], "protocols": ["https"]}, "deny_on_miss": true}}\`
  to allow outbound HTTP to those hosts. The build fills in \`artifacts.component_wasm\` and \`hashes.component_wasm\`.
- Call it from a flow:

  \`\`\`yaml
  hello:
    component.exec: { component: ${name}, input: { name: "{{state.name}}" } }
    operation: greet
    routing: [{ status: error, to: sorry }, { to: next }]
  \`\`\`
`;

/**
 * Creates a component project `<parent>/<name>`: `src/index.ts` (a `greet` operation using the state import),
 * `component.manifest.json`, `package.json`, `tsconfig.json`, `README.md` and `.gitignore`.
 */
export function scaffoldComponent(name: string, parent = '.'): ScaffoldResult {
  if (!COMPONENT_NAME.test(name)) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_USAGE',
      `"${name}" is not a valid component name: use lowercase letters, digits, "_", "-" and ".", starting with a letter (at most 63 characters)`,
    );
  }
  const dir = resolve(parent, name);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_EXISTS',
      `${dir} already exists and is not empty: choose another name or folder`,
    );
  }
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name,
        private: true,
        version: '0.1.0',
        type: 'module',
        description: `${name}: a Greentic component`,
        greentic: { entry: 'src/index.ts' },
        scripts: {
          build: 'greentic-component build',
          test: `greentic-component test . --op greet --input '{"name":"Ada"}'`,
        },
        devDependencies: { '@greentic/component-cli': `^${cliVersion()}` },
      },
      null,
      2,
    )}\n`,
    'component.manifest.json': `${JSON.stringify(manifest(name), null, 2)}\n`,
    'src/index.ts': source(name),
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          module: 'ESNext',
          moduleResolution: 'Bundler',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        include: ['src'],
      },
      null,
      2,
    )}\n`,
    'README.md': readme(name),
    '.gitignore': 'dist/\nnode_modules/\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
  }
  return { dir, files: Object.keys(files) };
}
