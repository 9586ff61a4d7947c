// world greentic:component/tool@0.6.0
import type * as GreenticComponentControl from './interfaces/greentic-component-control.js'; // greentic:component/control@0.6.0
import type * as GreenticHttpHttpClient from './interfaces/greentic-http-http-client.js'; // greentic:http/http-client@1.1.0
import type * as GreenticInterfacesTypesTypes from './interfaces/greentic-interfaces-types-types.js'; // greentic:interfaces-types/types@0.1.0
import type * as GreenticSecretsStoreSecretsStore from './interfaces/greentic-secrets-store-secrets-store.js'; // greentic:secrets-store/secrets-store@1.0.0
import type * as GreenticStateStateStore from './interfaces/greentic-state-state-store.js'; // greentic:state/state-store@1.0.0
import type * as GreenticTelemetryLoggerApi from './interfaces/greentic-telemetry-logger-api.js'; // greentic:telemetry/logger-api@1.0.0
import type * as GreenticTypesCoreCore from './interfaces/greentic-types-core-core.js'; // greentic:types-core/core@0.6.0
import type * as GreenticComponentNode from './interfaces/greentic-component-node.js'; // greentic:component/node@0.6.0
export interface ImportObject {
  'greentic:component/control@0.6.0': typeof GreenticComponentControl,
  'greentic:http/http-client@1.1.0': typeof GreenticHttpHttpClient,
  'greentic:interfaces-types/types@0.1.0': typeof GreenticInterfacesTypesTypes,
  'greentic:secrets-store/secrets-store@1.0.0': typeof GreenticSecretsStoreSecretsStore,
  'greentic:state/state-store@1.0.0': typeof GreenticStateStateStore,
  'greentic:telemetry/logger-api@1.0.0': typeof GreenticTelemetryLoggerApi,
  'greentic:types-core/core@0.6.0': typeof GreenticTypesCoreCore,
}
export interface Tool {
  'greentic:component/node@0.6.0': typeof GreenticComponentNode,
  node: typeof GreenticComponentNode,
}

/**
* Instantiates this component with the provided imports and
* returns a map of all the exports of the component.
*
* This function is intended to be similar to the
* `WebAssembly.Instantiate` constructor. The second `imports`
* argument is the "import object" for wasm, except here it
* uses component-model-layer types instead of core wasm
* integers/numbers/etc.
*
* The first argument to this function, `getCoreModule`, is
* used to compile core wasm modules within the component.
* Components are composed of core wasm modules and this callback
* will be invoked per core wasm module. The caller of this
* function is responsible for reading the core wasm module
* identified by `path` and returning its compiled
* `WebAssembly.Module` object. This would use the
* `WebAssembly.Module` constructor on the web, for example.
*/
export function instantiate(
getCoreModule: (path: string) => WebAssembly.Module,
imports: ImportObject,
instantiateCore?: (module: WebAssembly.Module, imports: Record<string, any>) => WebAssembly.Instance
): Tool;
export function instantiate(
getCoreModule: (path: string) => WebAssembly.Module | Promise<WebAssembly.Module>,
imports: ImportObject,
instantiateCore?: (module: WebAssembly.Module, imports: Record<string, any>) => WebAssembly.Instance | Promise<WebAssembly.Instance>
): Tool | Promise<Tool>;

