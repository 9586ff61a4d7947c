export { type SecretsProviderFixture, secretsProviderContract } from './secrets-provider-contract.js';
