export { isSessionError, SessionError, type SessionErrorCode, type SessionErrorOptions } from './errors.js';
export {
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_WAIT_TTL_MS,
  MemorySessionStore,
  type MemorySessionStoreOptions,
} from './memory.js';
export {
  type RedisSessionConnectOptions,
  RedisSessionStore,
  type RedisSessionStoreOptions,
} from './redis.js';
export type {
  CreateSessionOptions,
  RegisterWaitOptions,
  SaveSessionOptions,
  SessionRecord,
  SessionStore,
  SessionWait,
} from './store.js';
