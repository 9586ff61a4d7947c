export { isStateError, StateError, type StateErrorCode, type StateErrorOptions } from './errors.js';
export { DEFAULT_SWEEP_INTERVAL_MS, MemoryStateStore, type MemoryStateStoreOptions } from './memory.js';
export {
  DEFAULT_DELETE_BATCH_SIZE,
  type RedisStateConnectOptions,
  RedisStateStore,
  type RedisStateStoreOptions,
} from './redis.js';
export type {
  JsonValue,
  StateDeleteOptions,
  StateGetOptions,
  StateSetOptions,
  StateStore,
} from './store.js';
