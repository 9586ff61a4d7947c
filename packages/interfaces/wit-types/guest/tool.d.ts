/// <reference path="./interfaces/greentic-component-control.d.ts" />
/// <reference path="./interfaces/greentic-component-node.d.ts" />
/// <reference path="./interfaces/greentic-http-http-client.d.ts" />
/// <reference path="./interfaces/greentic-interfaces-types-types.d.ts" />
/// <reference path="./interfaces/greentic-secrets-store-secrets-store.d.ts" />
/// <reference path="./interfaces/greentic-state-state-store.d.ts" />
/// <reference path="./interfaces/greentic-telemetry-logger-api.d.ts" />
/// <reference path="./interfaces/greentic-types-core-core.d.ts" />
declare module 'greentic:component/tool@0.6.0' {
  import type * as GreenticComponentControl from 'greentic:component/control@0.6.0'; // greentic:component/control@0.6.0
  import type * as GreenticHttpHttpClient from 'greentic:http/http-client@1.1.0'; // greentic:http/http-client@1.1.0
  import type * as GreenticInterfacesTypesTypes from 'greentic:interfaces-types/types@0.1.0'; // greentic:interfaces-types/types@0.1.0
  import type * as GreenticSecretsStoreSecretsStore from 'greentic:secrets-store/secrets-store@1.0.0'; // greentic:secrets-store/secrets-store@1.0.0
  import type * as GreenticStateStateStore from 'greentic:state/state-store@1.0.0'; // greentic:state/state-store@1.0.0
  import type * as GreenticTelemetryLoggerApi from 'greentic:telemetry/logger-api@1.0.0'; // greentic:telemetry/logger-api@1.0.0
  import type * as GreenticTypesCoreCore from 'greentic:types-core/core@0.6.0'; // greentic:types-core/core@0.6.0
  import type * as GreenticComponentNode from 'greentic:component/node@0.6.0'; // greentic:component/node@0.6.0
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
  
}
