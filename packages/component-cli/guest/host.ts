/// <reference types="@greentic/interfaces/wit-types/guest/tool.d.ts" />
/**
 * The host services of the world `greentic:component/tool@0.6.0`, wrapped: outbound HTTP, secrets, state, logs.
 * Every call is synchronous (the host answers before the call returns).
 */
import { send } from 'greentic:http/http-client@1.1.0';
import { get as secretGet } from 'greentic:secrets-store/secrets-store@1.0.0';
import {
  delete as stateDelete,
  read as stateRead,
  write as stateWrite,
} from 'greentic:state/state-store@1.0.0';
import { log as hostLog } from 'greentic:telemetry/logger-api@1.0.0';
import { HostCallError, hostError, NodeFailure } from './node.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

// ---------------------------------------------------------------------------------------------------------------
// Host services

export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string> | [string, string][];
  /** A string is sent as UTF-8; an object as JSON (with `content-type: application/json`). */
  body?: string | Uint8Array | Record<string, unknown> | unknown[];
  /** Ask the host to give up after this many milliseconds (`host-error{code: "timeout"}`). */
  timeoutMs?: number;
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** The first header with this name (case-insensitive). */
  header(name: string): string | undefined;
  text(): string;
  /** Parses the body as JSON; a body that is not JSON throws `NodeFailure('unavailable')`. */
  json<T = unknown>(): T;
}

/** Outbound HTTP through the host (`greentic:http/http-client.send`), limited by the component's network policy. */
export const http = {
  /**
   * Sends a request and returns the response, whatever its status. Throws {@link HostCallError} when the host
   * could not get a response (`timeout`, `unavailable`, ...). A URL the network policy does not allow stops the
   * call in the host: the caller gets a `permission_denied` error and this function never returns.
   */
  fetch(url: string, init: HttpRequestInit = {}): HttpResponse {
    const headers: [string, string][] = Array.isArray(init.headers)
      ? init.headers.map(([k, v]) => [k, v])
      : Object.entries(init.headers ?? {});
    let body: Uint8Array | undefined;
    if (typeof init.body === 'string') body = utf8.encode(init.body);
    else if (init.body instanceof Uint8Array) body = init.body;
    else if (init.body !== undefined) {
      body = utf8.encode(JSON.stringify(init.body));
      if (!headers.some(([k]) => k.toLowerCase() === 'content-type'))
        headers.push(['content-type', 'application/json']);
    }
    let res: { status: number; headers: [string, string][]; body?: Uint8Array };
    try {
      res = send(
        { method: init.method ?? 'GET', url, headers, body },
        init.timeoutMs !== undefined || init.followRedirects !== undefined
          ? {
              timeoutMs: init.timeoutMs,
              followRedirects: init.followRedirects,
              proxy: 'inherit',
              tls: 'strict',
            }
          : undefined,
        undefined,
      );
    } catch (e) {
      throw hostError(`${init.method ?? 'GET'} ${url}`, e);
    }
    const bytes = res.body ?? new Uint8Array(0);
    return {
      status: res.status,
      headers: res.headers,
      body: bytes,
      header: (name) => res.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
      text: () => fromUtf8.decode(bytes),
      json<T>() {
        try {
          return JSON.parse(fromUtf8.decode(bytes)) as T;
        } catch {
          throw new NodeFailure('unavailable', `${url} answered ${res.status} with a body that is not JSON`);
        }
      },
    };
  },
  /** `fetch` with GET, then `json()`; a status outside 200-299 throws {@link HostCallError} with code `http_<status>`. */
  getJson<T = unknown>(url: string, init: Omit<HttpRequestInit, 'method' | 'body'> = {}): T {
    const res = http.fetch(url, { ...init, method: 'GET' });
    if (res.status < 200 || res.status > 299) {
      throw new HostCallError(`GET ${url}`, `http_${res.status}`, res.text().slice(0, 200));
    }
    return res.json<T>();
  },
};

/** Secrets the component's manifest lists (`capabilities.host.secrets.required`). */
export const secrets = {
  /** The secret's bytes, or undefined when no value is bound for the tenant. Throws {@link HostCallError}. */
  bytes(key: string): Uint8Array | undefined {
    try {
      return secretGet(key) ?? undefined;
    } catch (e) {
      throw hostError(`secrets.get ${key}`, e);
    }
  },
  /** The secret as UTF-8 text, or undefined. */
  text(key: string): string | undefined {
    const b = secrets.bytes(key);
    return b === undefined ? undefined : fromUtf8.decode(b);
  },
};

/** The component's own key/value state (scoped by the host to the tenant and the component). */
export const state = {
  /** The stored bytes, or undefined when the key has no value. */
  read(key: string): Uint8Array | undefined {
    try {
      return stateRead(key, undefined);
    } catch (e) {
      const err = hostError(`state.read ${key}`, e);
      if (err.code === 'not_found') return undefined;
      throw err;
    }
  },
  write(key: string, bytes: Uint8Array): void {
    try {
      stateWrite(key, bytes, undefined);
    } catch (e) {
      throw hostError(`state.write ${key}`, e);
    }
  },
  delete(key: string): void {
    try {
      stateDelete(key, undefined);
    } catch (e) {
      throw hostError(`state.delete ${key}`, e);
    }
  },
  /** Reads a value stored with {@link state.writeJson}. */
  readJson<T = unknown>(key: string): T | undefined {
    const b = state.read(key);
    return b === undefined ? undefined : (JSON.parse(fromUtf8.decode(b)) as T);
  },
  writeJson(key: string, value: unknown): void {
    state.write(key, utf8.encode(JSON.stringify(value)));
  },
};

/** One structured log line; the host tags it with the caller's tenant, flow and node. */
export function log(
  fields: Record<string, string | number | boolean>,
  span: { node_id?: string } = {},
): void {
  try {
    hostLog(
      {
        tenant: '',
        flowId: '',
        nodeId: span.node_id,
        provider: 'component',
        sessionId: undefined,
        startMs: undefined,
        endMs: undefined,
      },
      Object.entries(fields).map(([k, v]) => [k, String(v)]),
      undefined,
    );
  } catch {
    // logging never fails a call
  }
}
