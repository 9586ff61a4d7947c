/// <reference types="@greentic/interfaces/wit-types/guest/tool.d.ts" />
/**
 * The node export of a Greentic component written in TypeScript, without host services: `defineComponent`, typed
 * failures, CBOR, `shouldCancel`. Needs only what the canonical world `greentic:component/component@0.6.0` imports
 * (`control`); import it as `@greentic/component-cli/guest/node` for that world. `@greentic/component-cli/guest` adds
 * the host services of `greentic:component/tool@0.6.0`.
 */
import { shouldCancel as hostShouldCancel } from 'greentic:component/control@0.6.0';
import { decodeCbor, encodeCbor } from './cbor.js';

export { decodeCbor, encodeCbor } from './cbor.js';

// ---------------------------------------------------------------------------------------------------------------
// Failures

/** Upstream ErrorCode values (flows route on them with `prev.error.code`); any other string is allowed too. */
export type NodeErrorCode =
  | 'unknown'
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'timeout'
  | 'unauthenticated'
  | 'permission_denied'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'
  | (string & {});

/** Thrown by an operation to fail with a typed node error (the flow sees `{error: {code, message}}`). */
export class NodeFailure extends Error {
  readonly code: NodeErrorCode;
  readonly retryable: boolean;
  readonly backoffMs: number | undefined;
  readonly details: unknown;
  constructor(
    code: NodeErrorCode,
    message: string,
    options: { retryable?: boolean; backoffMs?: number; details?: unknown } = {},
  ) {
    super(message);
    this.name = 'NodeFailure';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.backoffMs = options.backoffMs;
    this.details = options.details;
  }
}

/** Throws a {@link NodeFailure}. */
export function fail(
  code: NodeErrorCode,
  message: string,
  options?: { retryable?: boolean; backoffMs?: number; details?: unknown },
): never {
  throw new NodeFailure(code, message, options);
}

/** A host import answered `err(host-error)` (or a secrets/state error code): `code` says why. */
export class HostCallError extends Error {
  readonly code: string;
  constructor(
    readonly call: string,
    code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'HostCallError';
    this.code = code;
  }
}

/**
 * jco hands an `err(...)` of a host import to JS as a thrown error whose `payload` is the error value.
 * @internal
 */
export function hostError(call: string, e: unknown): HostCallError {
  const payload = (e as { payload?: unknown })?.payload;
  if (typeof payload === 'string') return new HostCallError(call, payload, payload);
  if (payload && typeof payload === 'object') {
    const p = payload as { code?: unknown; message?: unknown };
    return new HostCallError(call, String(p.code ?? 'internal'), String(p.message ?? ''));
  }
  return new HostCallError(call, 'internal', e instanceof Error ? e.message : String(e));
}

/** True once the host wants the current call to stop; poll it in long loops. */
export function shouldCancel(): boolean {
  return hostShouldCancel();
}

// ---------------------------------------------------------------------------------------------------------------
// The node export

/** Who is calling, from the invocation envelope. */
export interface CallContext {
  op: string;
  flowId: string;
  stepId: string;
  componentId: string;
  attempt: number;
  tenant: {
    tenantId: string;
    envId: string;
    teamId?: string;
    userId?: string;
    traceId?: string;
    i18nId?: string;
  };
  /** The envelope's metadata (decoded CBOR), when the host sent some. */
  metadata: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: an operation table mixes input types; each run() declares its own
export interface OperationDefinition<I = any, O = unknown> {
  summary?: string;
  /** JSON Schema of the input (published by `describe`). */
  input_schema?: Record<string, unknown>;
  output_schema?: Record<string, unknown>;
  /** Runs the operation. Return the output (any JSON-like value); throw {@link NodeFailure} to fail with a code. */
  run(input: I, call: CallContext): O;
}

export interface ComponentDefinition {
  name: string;
  version: string;
  summary?: string;
  capabilities?: string[];
  ops: Record<string, OperationDefinition>;
}

interface WitEnvelope {
  ctx: {
    tenantId: string;
    envId: string;
    teamId?: string;
    userId?: string;
    traceId?: string;
    i18nId?: string;
  };
  flowId: string;
  stepId: string;
  componentId: string;
  attempt: number;
  payloadCbor: Uint8Array;
  metadataCbor?: Uint8Array;
}

interface WitNodeError {
  code: string;
  message: string;
  retryable: boolean;
  backoffMs?: bigint;
  details?: Uint8Array;
}

function nodeError(e: unknown): WitNodeError {
  if (e instanceof NodeFailure) {
    return {
      code: e.code,
      message: e.message,
      retryable: e.retryable,
      backoffMs: e.backoffMs === undefined ? undefined : BigInt(Math.max(0, Math.round(e.backoffMs))),
      details: e.details === undefined ? undefined : encodeCbor(e.details),
    };
  }
  if (e instanceof HostCallError) {
    const code = e.code === 'timeout' ? 'timeout' : e.code === 'denied' ? 'permission_denied' : 'unavailable';
    return { code, message: e.message, retryable: code !== 'permission_denied' };
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { code: 'internal', message, retryable: false };
}

const schemaOf = (schema: Record<string, unknown> | undefined) => ({
  schema: { tag: 'inline-cbor' as const, val: encodeCbor(schema ?? {}) },
  contentType: 'application/cbor',
  schemaVersion: undefined,
});

/**
 * Builds the `greentic:component/node@0.6.0` export from a table of operations. Export the result as `node`:
 * `export const node = defineComponent({...})`. Payloads are decoded from and encoded to CBOR; an unknown
 * operation fails with `not_found`, a thrown {@link NodeFailure} with its code, anything else with `internal`.
 */
export function defineComponent(def: ComponentDefinition) {
  const names = Object.keys(def.ops);
  return {
    describe() {
      return {
        name: def.name,
        version: def.version,
        summary: def.summary,
        capabilities: def.capabilities ?? [],
        ops: names.map((name) => ({
          name,
          summary: def.ops[name]!.summary,
          input: schemaOf(def.ops[name]!.input_schema),
          output: schemaOf(def.ops[name]!.output_schema),
          examples: [],
        })),
        schemas: [],
        setup: undefined,
      };
    },
    invoke(op: string, envelope: WitEnvelope) {
      const operation = Object.hasOwn(def.ops, op) ? def.ops[op] : undefined;
      if (!operation) {
        // jco turns a thrown value into `err(node-error)` for a result-returning export
        throw nodeError(
          new NodeFailure(
            'not_found',
            `component "${def.name}" has no operation "${op}" (it has: ${names.join(', ')})`,
          ),
        );
      }
      let input: unknown;
      let metadata: unknown;
      try {
        input = decodeCbor(envelope.payloadCbor);
        metadata = envelope.metadataCbor === undefined ? undefined : decodeCbor(envelope.metadataCbor);
      } catch (e) {
        throw nodeError(
          new NodeFailure('invalid_input', `the input of "${op}" is not valid CBOR: ${(e as Error).message}`),
        );
      }
      const call: CallContext = {
        op,
        flowId: envelope.flowId,
        stepId: envelope.stepId,
        componentId: envelope.componentId,
        attempt: envelope.attempt,
        tenant: envelope.ctx,
        metadata,
      };
      let output: unknown;
      try {
        output = operation.run(input ?? {}, call);
      } catch (e) {
        throw nodeError(e);
      }
      if (output instanceof Promise) {
        throw nodeError(
          new NodeFailure(
            'internal',
            `operation "${op}" returned a Promise: component operations are synchronous`,
          ),
        );
      }
      return { ok: true, outputCbor: encodeCbor(output ?? null), outputMetadataCbor: undefined };
    },
  };
}
