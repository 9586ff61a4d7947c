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
export { FunctionComponentRegistry, type OperationFn } from './function-registry.js';
