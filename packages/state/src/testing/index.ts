export { type StateStoreContractOptions, stateStoreContract } from './state-store-contract.js';
