// Test helpers of @greentic/messaging: the contract suites every store backend runs.

export * from '../webchat/testing/index.js';
export { replayGuardContract, type StoreContractOptions, sentLogContract } from './stores-contract.js';
