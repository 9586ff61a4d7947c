// Generates the TypeScript types of the Greentic WIT packages with jco and copies the WIT from the repository root.
//   node scripts/gen-wit-types.mjs          writes packages/interfaces/wit and packages/interfaces/wit-types
//   node scripts/gen-wit-types.mjs --check  exits 1 when anything committed differs from what would be generated
// The root `wit/` folder is the source of truth; `packages/interfaces/wit/` is a verbatim copy so the package ships it.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const rootWitDir = join(pkgDir, '..', '..', 'wit');
export const pkgWitDir = join(pkgDir, 'wit');
export const witTypesDir = join(pkgDir, 'wit-types');
const WORLD = 'greentic:component/tool';

/** Every file under `dir`, as relative path → bytes (sorted). */
export function readTree(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p).split('\\').join('/'), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

// jco reads WIT through preview2-shim's filesystem, whose preopen list starts empty (toolchain notes: "os error
// 44"): give the shim instance jco-transpile uses a preopen of "/".
async function openFilesystemForJco() {
  const req = createRequire(import.meta.url);
  const jco = req.resolve('@bytecodealliance/jco');
  const transpile = createRequire(jco).resolve('@bytecodealliance/jco-transpile');
  const shim = createRequire(transpile).resolve('@bytecodealliance/preview2-shim/filesystem');
  const fs = await import(pathToFileURL(shim).href);
  if (!fs._getPreopens().some(([, p]) => p === '/')) fs._addPreopen('/', '/');
}

/** The generated type files: `host/…` (jco types) and `guest/…` (jco guest-types) for the `tool` world. */
export async function generateWitTypes(witDir = rootWitDir) {
  await openFilesystemForJco();
  const { types } = await import('@bytecodealliance/jco');
  const out = new Map();
  for (const [kind, guest] of [
    ['host', false],
    ['guest', true],
  ]) {
    const files = await types(witDir, { worldName: WORLD, name: 'tool', instantiation: 'async', guest });
    for (const [name, bytes] of Object.entries(files)) out.set(`${kind}/${name}`, Buffer.from(bytes));
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function sameTree(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}

async function main() {
  const check = process.argv.includes('--check');
  const wit = readTree(rootWitDir);
  const generated = await generateWitTypes();
  if (check) {
    const okWit = sameTree(wit, readTree(pkgWitDir));
    const okTypes = sameTree(generated, readTree(witTypesDir));
    if (!okWit)
      console.error(
        'packages/interfaces/wit differs from wit/: run node packages/interfaces/scripts/gen-wit-types.mjs',
      );
    if (!okTypes)
      console.error(
        'packages/interfaces/wit-types is stale: run node packages/interfaces/scripts/gen-wit-types.mjs',
      );
    process.exit(okWit && okTypes ? 0 : 1);
  }
  for (const [dir, files] of [
    [pkgWitDir, wit],
    [witTypesDir, generated],
  ]) {
    rmSync(dir, { recursive: true, force: true });
    for (const [name, bytes] of files) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
  }
  console.log(
    `wrote ${wit.size} WIT files to ${relative(process.cwd(), pkgWitDir)} and ${generated.size} type files to ${relative(process.cwd(), witTypesDir)}`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
