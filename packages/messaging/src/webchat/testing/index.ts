export { activityStoreContract } from './activity-store-contract.js';
