// The WebChat channel: a Direct Line 3.0-compatible endpoint (Fastify plugin), its web page and a test/demo helper.
// Its errors are MessagingErrors with GT_MSG_WEBCHAT_* codes, in the package's one catalog (../errors.ts).
export {
  type Activity,
  type ActivityAttachment,
  activityToEnvelope,
  type BotMessage,
  type ChannelAccount,
  type NewActivity,
  simpleCardToAdaptive,
  WEBCHAT_CHANNEL,
} from './activity.js';
export {
  type ActivityContext,
  createDirectLine,
  DEFAULT_MAX_TOKEN_MINTS_PER_MINUTE,
  type DeliverOptions,
  type DeliverResult,
  DIRECTLINE_BASE,
  type DirectLine,
  type DirectLineOptions,
  directLine,
} from './directline.js';
export { WEBCHAT_UI_DIR, type WebChatPageOptions } from './page.js';
export { type StartWebChatOptions, startWebChat, type WebChat, type WebChatBot } from './start.js';
export {
  type ActivityListener,
  type ActivitySet,
  type ActivityStore,
  type AppendResult,
  type ConversationInfo,
  MemoryActivityStore,
  type MemoryActivityStoreOptions,
} from './store.js';
export {
  DEFAULT_TOKEN_TTL_SEC,
  DirectLineTokens,
  type DirectLineTokensOptions,
  MAX_TOKEN_TTL_SEC,
  MIN_TOKEN_TTL_SEC,
  type MintedToken,
  resolveTokenTtlSec,
  TOKEN_TTL_ENV,
  type TokenClaims,
} from './tokens.js';
