import type { AllowList, NetworkPolicy } from './policy.js';

/** Outbound HTTP capability (upstream `HttpCaps`). */
export interface HttpCaps {
  allow_list?: AllowList;
  max_body_bytes?: number;
}

/** Secrets a pack needs bound (upstream `SecretsCaps`; `SecretRequirement` is kept as an open object here). */
export interface SecretsCaps {
  required?: Record<string, unknown>[];
}

/** Key-value namespaces (upstream `KvCaps`). */
export interface KvCaps {
  namespaces?: string[];
}

/** Filesystem mounts (upstream `FsCaps`; `read_only` defaults to true when absent). */
export interface FsCaps {
  paths?: string[];
  read_only?: boolean;
}

/** Raw networking (upstream `NetCaps`). */
export interface NetCaps {
  policy?: NetworkPolicy;
}

/** Host tools a pack expects (upstream `ToolsCaps`). */
export interface ToolsCaps {
  allowed?: string[];
}

/** How credentials are obtained (upstream `AuthCaps`; `kind` defaults to `none`; `oauth` uses camelCase keys). */
export interface AuthCaps {
  kind?: 'none' | 'apikey' | 'oauth';
  oauth?: {
    authorizeUrl: string;
    tokenUrl: string;
    scopes?: string[];
    pkce?: boolean;
    extraAuthParams?: Record<string, string>;
    tokenAuthStyle?: 'basic' | 'body';
  };
}

/** Capabilities a pack may request (upstream `Capabilities`; every part optional and omitted when absent). */
export interface Capabilities {
  http?: HttpCaps;
  secrets?: SecretsCaps;
  kv?: KvCaps;
  fs?: FsCaps;
  net?: NetCaps;
  tools?: ToolsCaps;
  auth?: AuthCaps;
}

/** Resource limits (upstream `Limits`). */
export interface Limits {
  memory_mb: number;
  wall_time_ms: number;
  fuel?: number;
  /** File descriptor ceiling. */
  files?: number;
}
