import { describeValue, TypesError } from './errors.js';

/** Key of a persisted state blob. Upstream `StateKey` is a transparent string with no validation. */
export type StateKey = string;

/** A path into a JSON state document (upstream `StatePath`), convertible to and from a JSON pointer. */
export interface StatePath {
  segments: string[];
}

/** Escapes one JSON pointer reference token (RFC 6901: `~` → `~0`, then `/` → `~1`). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Unescapes one JSON pointer reference token (`~1` → `/`, then `~0` → `~`, so `~01` is `~1`).
 * Throws `GT_TYPES_BAD_POINTER` on a `~` not followed by `0` or `1`.
 */
export function unescapePointerSegment(token: string): string {
  if (/~(?![01])/.test(token)) {
    throw new TypesError(
      'GT_TYPES_BAD_POINTER',
      `JSON pointer token ${describeValue(token)} has a "~" not followed by 0 or 1; write "~0" for "~" and "~1" for "/"`,
    );
  }
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Builds an RFC 6901 JSON pointer from raw segments (`[]` → `""`, `["a/b"]` → `"/a~1b"`). */
export function toJsonPointer(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) out += `/${escapePointerSegment(String(segment))}`;
  return out;
}

/**
 * Parses an RFC 6901 JSON pointer into raw segments (`""` → `[]`, `"/"` → `[""]`, `"/a~1b/c"` → `["a/b","c"]`).
 * Throws `GT_TYPES_BAD_POINTER` when the pointer is not empty and does not start with `/`, or has a bad escape.
 */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new TypesError(
      'GT_TYPES_BAD_POINTER',
      `JSON pointer ${describeValue(pointer)} must be empty or start with "/" (for example "/user/name")`,
    );
  }
  return pointer.slice(1).split('/').map(unescapePointerSegment);
}

/** The empty (root) state path. */
export function rootStatePath(): StatePath {
  return { segments: [] };
}

/** Why a state path is invalid, or `undefined`: segments must be non-empty strings. */
export function statePathProblem(path: StatePath): { index: number; message: string } | undefined {
  for (let index = 0; index < path.segments.length; index++) {
    const segment = path.segments[index];
    if (typeof segment !== 'string')
      return { index, message: `must be a string (got ${describeValue(segment)})` };
    if (segment.length === 0) return { index, message: 'must not be empty' };
  }
  return undefined;
}

function assertStatePath(path: StatePath): void {
  const problem = statePathProblem(path);
  if (problem) {
    throw new TypesError(
      'GT_TYPES_BAD_POINTER',
      `/segments/${problem.index}: state path segment ${problem.message}`,
      {
        field: `/segments/${problem.index}`,
      },
    );
  }
}

/** Builds a validated state path from segments (each non-empty). */
export function statePath(...segments: string[]): StatePath {
  const path = { segments: [...segments] };
  assertStatePath(path);
  return path;
}

/**
 * The JSON pointer of a state path. The root is `""` (RFC 6901); every other path is `/seg/seg` with `~`/`/`
 * escaped. (Upstream writes the root as `"/"`; {@link statePathFromPointer} accepts both.)
 */
export function statePathToPointer(path: StatePath): string {
  assertStatePath(path);
  return toJsonPointer(path.segments);
}

/**
 * Parses a JSON pointer into a state path. `""` and `"/"` are the root (the latter for upstream compatibility);
 * otherwise the pointer must start with `/`, use valid escapes, and have no empty segment (`/a//b` is rejected).
 * Throws `GT_TYPES_BAD_POINTER`.
 */
export function statePathFromPointer(pointer: string): StatePath {
  if (pointer === '' || pointer === '/') return rootStatePath();
  const segments = parseJsonPointer(pointer);
  const empty = segments.indexOf('');
  if (empty >= 0) {
    throw new TypesError(
      'GT_TYPES_BAD_POINTER',
      `JSON pointer ${describeValue(pointer)} has an empty segment at position ${empty}; state paths need non-empty segments`,
    );
  }
  return { segments };
}

/** Well-known capability id of key-value state providers. */
export const CAP_STATE_KV_V1 = 'greentic.cap.state.kv.v1';

/** State capability operation kinds (upstream `StateOp`, JSON `get`...; canonical op names `state.get`...). */
export type StateOp = 'get' | 'put' | 'delete' | 'list' | 'cas';

/** Payload of a state capability request (upstream `StateOpPayload`; `value` is a byte array as JSON numbers). */
export interface StateOpPayload {
  namespace: string;
  key: string;
  value?: number[];
  ttl_seconds?: number;
  cas_version?: number;
  prefix?: string;
}

/** Result of a state capability request (upstream `StateOpResult`). */
export interface StateOpResult {
  found: boolean;
  value?: number[];
  version?: number;
  keys?: string[];
  error?: string;
}
