// Component runtime: instantiates transpiled components (jco, --instantiation async) with Greentic host imports and
// runs their exports. Runs inside a sandbox worker thread (sandbox-worker.mjs) or, for the inline sandbox, on the
// caller's thread. Plain JavaScript so that a worker can load it without a TypeScript loader.
//
// Host imports are synchronous from the component's side: `hostCall(method, args)` must return the answer
// synchronously (the worker blocks on Atomics.wait until the main thread has answered) as
//   { r: { tag: 'ok' | 'err', val } }   the value handed to the component, or
//   { e: { code, message, ... } }       a host-side failure (denial...): the call is aborted with that error.

const NODE_EXPORT = 'greentic:component/node@0.6.0';

/** Thrown through the component to abort a call with a host-side error (no `payload`: jco rethrows it). */
export class HostAbort extends Error {
  constructor(data) {
    super(data.message);
    this.name = 'HostAbort';
    this.greentic = data;
  }
}

function answer(response) {
  if (response.e) throw new HostAbort(response.e);
  return response.r;
}

const denyAll = (iface, message, component) =>
  new Proxy(
    {},
    {
      get(_t, name) {
        if (typeof name !== 'string') return undefined;
        return function denied() {
          throw new HostAbort({
            code: 'GT_COMPONENT_DENIED',
            message: `${iface}.${name}: ${message}`,
            component,
            capability: iface,
            resource: name,
          });
        };
      },
    },
  );

let shimPromise;
async function loadShim() {
  shimPromise ??= Promise.all([
    import('@bytecodealliance/preview2-shim/io'),
    import('@bytecodealliance/preview2-shim/cli'),
    import('@bytecodealliance/preview2-shim/clocks'),
    import('@bytecodealliance/preview2-shim/random'),
    import('@bytecodealliance/preview2-shim/filesystem'),
  ]).then(([io, cli, clocks, random, filesystem]) => ({ io, cli, clocks, random, filesystem }));
  return shimPromise;
}

function gate(allowed, iface, impl, component, capability) {
  return allowed
    ? impl
    : denyAll(iface, `the component's manifest does not grant wasi.${capability}`, component);
}

/** WASI imports (preview2-shim) with deny-by-default: no environment, no files, no sockets, random/clocks per manifest. */
function wasiImports(shim, wasi, component) {
  if (!shim) return {};
  const { io, cli, clocks, random, filesystem } = shim;
  return {
    'wasi:io/error': io.error,
    'wasi:io/poll': io.poll,
    'wasi:io/streams': io.streams,
    'wasi:cli/environment': { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
    'wasi:cli/exit': cli.exit,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:clocks/wall-clock': gate(
      wasi.clocks,
      'wasi:clocks/wall-clock',
      clocks.wallClock,
      component,
      'clocks',
    ),
    'wasi:clocks/monotonic-clock': gate(
      wasi.clocks,
      'wasi:clocks/monotonic-clock',
      clocks.monotonicClock,
      component,
      'clocks',
    ),
    'wasi:random/random': gate(wasi.random, 'wasi:random/random', random.random, component, 'random'),
    'wasi:random/insecure': gate(wasi.random, 'wasi:random/insecure', random.insecure, component, 'random'),
    'wasi:random/insecure-seed': gate(
      wasi.random,
      'wasi:random/insecure-seed',
      random.insecureSeed,
      component,
      'random',
    ),
    'wasi:filesystem/types': filesystem.types,
    'wasi:filesystem/preopens': { getDirectories: () => [] },
  };
}

/** Imports the host can satisfy (names as jco passes them: interface without version). */
export const SUPPORTED_IMPORTS = [
  'greentic:component/control',
  'greentic:state/state-store',
  'greentic:secrets-store/secrets-store',
  'greentic:http/http-client',
  'greentic:telemetry/logger-api',
];
export const DENIED_IMPORT_PREFIXES = ['wasi:sockets/', 'wasi:http/'];
export const SHIM_IMPORT_PREFIXES = [
  'wasi:io/',
  'wasi:cli/',
  'wasi:clocks/',
  'wasi:random/',
  'wasi:filesystem/',
];

function classify(err, entry, memories) {
  if (err instanceof HostAbort) return err.greentic;
  const component = entry.id;
  const message = err instanceof Error ? err.message : String(err);
  const atLimit = memories.some((m) => m.buffer.byteLength >= entry.memoryMaxPages * 65536);
  if (err instanceof WebAssembly.RuntimeError || err instanceof RangeError) {
    if (atLimit || /out of memory|maximum memory|memory size/i.test(message)) {
      return {
        code: 'GT_COMPONENT_MEMORY',
        message: `component "${component}" ran out of memory at its limit of ${entry.memoryMaxPages / 16} MiB (${message})`,
        component,
      };
    }
    return { code: 'GT_COMPONENT_TRAP', message: `component "${component}" trapped: ${message}`, component };
  }
  if (err instanceof TypeError) {
    return {
      code: 'GT_COMPONENT_ABI',
      message: `component "${component}" does not match the greentic:component@0.6.0 interface the host speaks: ${message}`,
      component,
    };
  }
  return { code: 'GT_COMPONENT_TRAP', message: `component "${component}" failed: ${message}`, component };
}

/**
 * @param {{ hostCall: (method: string, args: object) => object, hostNotify: (method: string, args: object) => void,
 *   isCancelled: () => boolean, maxInstances?: number }} host
 */
export function createRuntime(host) {
  const components = new Map(); // key -> { id, glue, modules, memoryMaxPages, wasi, imports }
  const instances = new Map(); // instanceKey -> { exports, memories, componentKey }
  const maxInstances = host.maxInstances ?? 64;
  let shim;

  function importsFor(entry) {
    const ctl = { shouldCancel: () => host.isCancelled(), yieldNow: () => {} };
    const state = {
      read: (key, ctx) => answer(host.hostCall('state.read', { key, ctx })),
      write: (key, bytes, ctx) => answer(host.hostCall('state.write', { key, bytes, ctx })),
      delete: (key, ctx) => answer(host.hostCall('state.delete', { key, ctx })),
    };
    const secrets = { get: (key) => answer(host.hostCall('secrets.get', { key })) };
    const http = { send: (req, options, ctx) => answer(host.hostCall('http.send', { req, options, ctx })) };
    const logger = {
      log: (span, fields, ctx) => {
        host.hostNotify('log', { span, fields, ctx });
        return { tag: 'ok', val: 'ok' };
      },
    };
    const imports = {
      'greentic:component/control': ctl,
      'greentic:state/state-store': state,
      'greentic:secrets-store/secrets-store': secrets,
      'greentic:http/http-client': http,
      'greentic:telemetry/logger-api': logger,
      ...wasiImports(entry.needsShim ? shim : undefined, entry.wasi, entry.id),
    };
    for (const name of entry.imports) {
      if (DENIED_IMPORT_PREFIXES.some((p) => name.startsWith(p))) {
        imports[name] = denyAll(
          name,
          'is not available to components; use greentic:http/http-client',
          entry.id,
        );
      }
    }
    return imports;
  }

  function instantiate(componentKey) {
    const entry = components.get(componentKey);
    if (!entry) throw new Error(`component ${componentKey} is not loaded in this sandbox`);
    const memories = [];
    let exports;
    try {
      exports = entry.glue.instantiate(
        (name) => {
          const m = entry.modules[name];
          if (!m) throw new Error(`missing core module ${name}`);
          return m;
        },
        importsFor(entry),
        (module, imports) => {
          const inst = new WebAssembly.Instance(module, imports);
          for (const v of Object.values(inst.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
          return inst;
        },
      );
    } catch (err) {
      const e = err instanceof HostAbort ? err.greentic : undefined;
      throw new HostAbort(
        e ?? {
          code: err instanceof WebAssembly.RuntimeError ? 'GT_COMPONENT_TRAP' : 'GT_COMPONENT_ABI',
          message: `component "${entry.id}" could not be instantiated: ${err?.message ?? err}`,
          component: entry.id,
        },
      );
    }
    if (exports instanceof Promise) throw new Error('jco instantiate unexpectedly returned a promise');
    const node = exports[NODE_EXPORT] ?? exports.node;
    if (!node || typeof node.invoke !== 'function' || typeof node.describe !== 'function') {
      throw new HostAbort({
        code: 'GT_COMPONENT_ABI',
        message: `component "${entry.id}" does not export ${NODE_EXPORT} with describe() and invoke()`,
        component: entry.id,
      });
    }
    return { node, memories, componentKey };
  }

  function instanceFor(componentKey, instanceKey, fresh) {
    if (fresh) return instantiate(componentKey);
    let inst = instances.get(instanceKey);
    if (inst) {
      instances.delete(instanceKey); // re-insert: most recently used last
      instances.set(instanceKey, inst);
      return inst;
    }
    inst = instantiate(componentKey);
    instances.set(instanceKey, inst);
    while (instances.size > maxInstances) instances.delete(instances.keys().next().value);
    return inst;
  }

  return {
    /** Makes a loaded component available: `glue` is the transpiled module namespace (or its URL). */
    async load(key, spec) {
      if (components.has(key)) return;
      const glue = typeof spec.glue === 'string' ? await import(spec.glue) : spec.glue;
      const needsShim = spec.imports.some((n) => SHIM_IMPORT_PREFIXES.some((p) => n.startsWith(p)));
      if (needsShim && !shim) shim = await loadShim();
      components.set(key, { ...spec, glue, needsShim });
    },
    isLoaded: (key) => components.has(key),
    /** Runs `kind` ('invoke' | 'describe'); returns { ok: value } | { nodeError } or throws HostAbort-like data. */
    run(req) {
      const entry = components.get(req.componentKey);
      let inst;
      try {
        inst = instanceFor(req.componentKey, req.instanceKey, req.fresh);
      } catch (err) {
        return { error: err instanceof HostAbort ? err.greentic : classify(err, entry ?? { id: '?' }, []) };
      }
      try {
        if (req.kind === 'describe') return { ok: inst.node.describe() };
        return { ok: inst.node.invoke(req.op, req.envelope) };
      } catch (err) {
        // jco throws an `err` result's payload as is (older versions wrapped it in an Error with `payload`).
        if (err && typeof err === 'object' && !(err instanceof Error)) return { nodeError: err };
        if (err && typeof err === 'object' && 'payload' in err && !(err instanceof HostAbort)) {
          return { nodeError: err.payload };
        }
        instances.delete(req.instanceKey); // a trapped or aborted instance is never reused
        return { error: classify(err, entry, inst.memories) };
      } finally {
        if (req.fresh) instances.delete(req.instanceKey);
      }
    },
    instanceCount: () => instances.size,
    dropInstances() {
      instances.clear();
    },
  };
}
