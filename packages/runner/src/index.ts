export { type CliIO, runRunnerCli } from './cli.js';
export {
  componentRef,
  type EngineOptions,
  FlowEngine,
  isBuiltinOp,
  type OutboundMessage,
  type TurnResult,
  type TurnStatus,
} from './engine/engine.js';
export { RunnerError, type RunnerErrorCode } from './errors.js';
export { envelopeFromInput, type InputDefaults } from './input.js';
export { runnerHostServices, type RunnerHostServicesOptions } from './host-services.js';
