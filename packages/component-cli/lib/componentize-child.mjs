// Runs ComponentizeJS in its own process for `greentic-component build`: the SpiderMonkey splicer and Wizer use a
// lot of memory, and the parent (a CLI, a test worker) should not keep it. Plain JavaScript: no loader needed.
//   node componentize-child.mjs <job.json>
// job: { sourcePath, witPath (a file holding the WIT text), worldName, disableFeatures, outPath }
// Prints one JSON line on stdout: { ok: true, size, imports, exports } or { ok: false, message }.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';

// ComponentizeJS imports @bytecodealliance/weval, which imports @napi-rs/lzma. Its native binding is an optional
// dependency that package managers skip on Node 20 (its `engines` asks for Node 22), and then the import throws
// although xz is only used to download weval for ahead-of-time compilation, which `build` never asks for. When the
// binding does not load, that one import is answered with a stub.
function stubLzmaWhenUnavailable() {
  let xz;
  try {
    const componentize = realpathSync(
      fileURLToPath(import.meta.resolve('@bytecodealliance/componentize-js')),
    );
    const weval = realpathSync(createRequire(componentize).resolve('@bytecodealliance/weval'));
    xz = createRequire(weval).resolve('@napi-rs/lzma/xz');
  } catch {
    return;
  }
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(xz)})`], { stdio: 'ignore' });
  if (probe.status === 0) return;
  const stub = `data:text/javascript,${encodeURIComponent(
    "export default { decompress() { throw new Error('xz is not available (no @napi-rs/lzma binding for this Node version)'); } };",
  )}`;
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === '@napi-rs/lzma/xz') return { url: ${JSON.stringify(stub)}, shortCircuit: true };
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

async function main() {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  stubLzmaWhenUnavailable();
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const witWorld = readFileSync(job.witPath, 'utf8');
  let result;
  try {
    result = await componentize({
      sourcePath: job.sourcePath,
      witWorld,
      worldName: job.worldName,
      disableFeatures: job.disableFeatures,
    });
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ ok: false, message: String(e?.message ?? e) })}\n`);
    return;
  }
  writeFileSync(job.outPath, result.component);
  process.stdout.write(
    `${JSON.stringify({ ok: true, size: result.component.length, imports: result.imports, exports: result.exports })}\n`,
  );
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url)))
  await main();
