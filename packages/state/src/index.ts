export { isStateError, StateError, type StateErrorCode, type StateErrorOptions } from './errors.js';
export { DEFAULT_SWEEP_INTERVAL_MS, MemoryStateStore, type MemoryStateStoreOptions } from './memory.js';
export type {
  JsonValue,
  StateDeleteOptions,
  StateGetOptions,
  StateSetOptions,
  StateStore,
} from './store.js';
