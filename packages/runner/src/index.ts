export {
  FlowEngine,
  type EngineOptions,
  type OutboundMessage,
  type TurnResult,
  type TurnStatus,
  componentRef,
  isBuiltinOp,
} from './engine/engine.js';
export { RunnerError, type RunnerErrorCode } from './errors.js';
export { envelopeFromInput, type InputDefaults } from './input.js';
export { runRunnerCli, type CliIO } from './cli.js';
