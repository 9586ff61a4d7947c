// Test helpers of @greentic/messaging: the contract suites every store backend runs, and the WebChat drivers
// (headless Chromium, botframework-directlinejs in Node).

export * from '../webchat/testing/index.js';
export {
  type DirectLineClient,
  type DirectLineCtor,
  type DirectLineModule,
  type DirectLineObservable,
  type DirectLineSubscription,
  type HeadlessChromium,
  type LaunchChromiumOptions,
  launchChromium,
  loadDirectLine,
} from './browser.js';
export { replayGuardContract, type StoreContractOptions, sentLogContract } from './stores-contract.js';
