export { type SessionStoreContractOptions, sessionStoreContract } from './session-store-contract.js';
