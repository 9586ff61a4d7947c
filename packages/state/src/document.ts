/**
 * Internal: JSON-pointer reads and writes on a stored document (segments come from `parsePath`).
 * Writes mutate the document in place; they validate the whole path before changing anything, so a failed
 * write leaves the document as it was.
 */
import { describeValue, toJsonPointer } from '@greentic/types';
import { StateError } from './errors.js';
import type { JsonValue } from './store.js';
import { defineMember } from './validate.js';

type JsonObject = { [key: string]: JsonValue };

const INDEX_RE = /^(?:0|[1-9][0-9]*)$/;

/** An array index segment (`0`, `12`; no sign, no leading zero), or -1. */
function arrayIndex(segment: string): number {
  return INDEX_RE.test(segment) ? Number(segment) : -1;
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at `segments`, or `undefined` when the path does not resolve. */
export function readAt(doc: JsonValue | undefined, segments: readonly string[]): JsonValue | undefined {
  let current = doc;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      const index = arrayIndex(segment);
      current = index >= 0 && index < current.length ? current[index] : undefined;
    } else if (isObject(current)) {
      current = Object.hasOwn(current, segment) ? current[segment] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

function pathError(what: string, key: string, segments: readonly string[], upto: number, message: string) {
  const path = toJsonPointer(segments);
  const at = toJsonPointer(segments.slice(0, upto)) || '(root)';
  return new StateError('GT_STATE_PATH', `${what}: cannot write at ${path}: ${at} ${message}`, { key, path });
}

/**
 * Writes `value` at `segments` in `doc` and returns the new document (`value` itself for the root; otherwise
 * `doc`, mutated, or a new object when `doc` is missing). Throws `GT_STATE_PATH` when the path runs through a
 * non-container or names an impossible array position; `doc` is then unchanged.
 */
export function writeAt(
  doc: JsonValue | undefined,
  segments: readonly string[],
  value: JsonValue,
  what: string,
  key: string,
): JsonValue {
  if (segments.length === 0) return value;
  const root: JsonValue = doc === undefined ? {} : doc;
  let container: JsonValue = root;
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const segment = segments[i] as string;
    if (Array.isArray(container)) {
      const index = segment === '-' ? container.length : arrayIndex(segment);
      if (index < 0 || index > container.length) {
        throw pathError(
          what,
          key,
          segments,
          i,
          `is an array of ${container.length} item(s); use an index 0..${container.length - 1} to replace, ` +
            `or "-" / ${container.length} to append (got ${describeValue(segment)})`,
        );
      }
      if (i === last) {
        container[index] = value;
      } else if (index === container.length) {
        const created: JsonObject = {};
        container.push(created);
        container = created;
      } else {
        container = checkContainer(container[index] as JsonValue, what, key, segments, i + 1);
      }
    } else if (isObject(container)) {
      if (i === last) {
        if (segment === '__proto__') defineMember(container, segment, value);
        else container[segment] = value;
      } else if (!Object.hasOwn(container, segment)) {
        const created: JsonObject = {};
        if (segment === '__proto__') defineMember(container, segment, created);
        else container[segment] = created;
        container = created;
      } else {
        container = checkContainer(container[segment] as JsonValue, what, key, segments, i + 1);
      }
    } else {
      // Only reachable for the root: every deeper container was checked before descending.
      throw notContainer(container, what, key, segments, i);
    }
  }
  return root;
}

function checkContainer(
  value: JsonValue,
  what: string,
  key: string,
  segments: readonly string[],
  upto: number,
): JsonValue {
  if (typeof value === 'object' && value !== null) return value;
  throw notContainer(value, what, key, segments, upto);
}

function notContainer(
  value: JsonValue,
  what: string,
  key: string,
  segments: readonly string[],
  upto: number,
) {
  const kind = value === null ? 'null' : `a ${typeof value}`;
  return pathError(
    what,
    key,
    segments,
    upto,
    `is ${kind}, not an object or array; write the parent first (or write at a shorter path)`,
  );
}

/**
 * Deletes the member/element at `segments` (non-empty) from `doc` in place; arrays close the gap.
 * True when something was deleted; a path that does not resolve deletes nothing.
 */
export function deleteAt(doc: JsonValue | undefined, segments: readonly string[]): boolean {
  const parent = readAt(doc, segments.slice(0, -1));
  const last = segments[segments.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = arrayIndex(last);
    if (index < 0 || index >= parent.length) return false;
    parent.splice(index, 1);
    return true;
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    delete parent[last];
    return true;
  }
  return false;
}
