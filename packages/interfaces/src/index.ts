export type {
  ComponentDescription,
  ComponentFailure,
  ComponentInvoker,
  ComponentRef,
  ComponentRegistry,
  InvocationEnvelope,
  InvokeOptions,
  OperationDescription,
} from './component.js';
export { CompositeComponentRegistry } from './composite-registry.js';
export { FunctionComponentRegistry, type OperationFn } from './function-registry.js';
export {
  type HostCall,
  type HostHttpRequest,
  type HostHttpResponse,
  type HostHttpService,
  type HostLogRecord,
  type HostLogService,
  type HostSecretsService,
  HostServiceError,
  type HostServices,
  type HostStateService,
  type MaybePromise,
  type ScopedSecretKey,
  type ScopedStateKey,
} from './host-services.js';
export {
  MemoryHostLog,
  MemoryHostSecrets,
  type MemoryHostServices,
  MemoryHostState,
  memoryHostServices,
  NoHostHttp,
  StubHostHttp,
} from './host-services-memory.js';
export {
  WIT,
  type WitControl,
  type WitHttpClient,
  type WitInterfacesTypes,
  type WitLoggerApi,
  type WitNode,
  type WitSecretsStore,
  type WitStateStore,
  type WitToolExports,
  type WitToolImports,
  type WitTypesCore,
  witDir,
  witGuestTypesDir,
} from './wit.js';
