// Test helpers of @greentic/redis: the test Redis, stand-in servers, and the suite every Redis-backed store runs.

export { type RedisStoreContractOptions, redisStoreContract } from './redis-store-contract.js';
export {
  closedPort,
  fakeRedis,
  type LocalServer,
  silentServer,
  TEST_REDIS_URL,
  type TestRedis,
  useTestRedis,
} from './servers.js';
