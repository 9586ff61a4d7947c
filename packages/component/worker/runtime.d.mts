// Types of runtime.mjs (the plain-JS component runtime shared by the sandbox worker and the inline sandbox).
export interface HostAbortData {
  code: string;
  message: string;
  component?: string;
  capability?: string;
  resource?: string;
}
export declare class HostAbort extends Error {
  constructor(data: HostAbortData);
  greentic: HostAbortData;
}
export interface RuntimeHost {
  hostCall(
    method: string,
    args: Record<string, unknown>,
  ): { r?: { tag: 'ok' | 'err'; val?: unknown }; e?: HostAbortData };
  hostNotify(method: string, args: Record<string, unknown>): void;
  isCancelled(): boolean;
  maxInstances?: number;
}
export interface RuntimeComponentSpec {
  id: string;
  glue: string | { instantiate: (...args: unknown[]) => unknown };
  modules: Record<string, WebAssembly.Module>;
  memoryMaxPages: number;
  wasi: { random: boolean; clocks: boolean };
  imports: string[];
}
export interface RuntimeRequest {
  kind: 'invoke' | 'describe';
  componentKey: string;
  instanceKey: string;
  fresh: boolean;
  op?: string;
  envelope?: unknown;
}
export type RuntimeResult = { ok: unknown } | { nodeError: unknown } | { error: HostAbortData };
export interface Runtime {
  load(key: string, spec: RuntimeComponentSpec): Promise<void>;
  isLoaded(key: string): boolean;
  run(req: RuntimeRequest): RuntimeResult;
  instanceCount(): number;
  dropInstances(): void;
}
export declare function createRuntime(host: RuntimeHost): Runtime;
export declare const SUPPORTED_IMPORTS: string[];
export declare const DENIED_IMPORT_PREFIXES: string[];
export declare const SHIM_IMPORT_PREFIXES: string[];
