import { describe, expect, it } from 'vitest';
import { isTypesError } from './errors.js';
import {
  escapePointerSegment,
  parseJsonPointer,
  statePath,
  statePathFromPointer,
  statePathToPointer,
  toJsonPointer,
  unescapePointerSegment,
} from './state.js';
import { validateStatePath } from './validate.js';

describe('JSON pointer', () => {
  it('escapes ~ as ~0 and / as ~1 (in that order)', () => {
    expect(escapePointerSegment('a/b')).toBe('a~1b');
    expect(escapePointerSegment('m~n')).toBe('m~0n');
    expect(escapePointerSegment('~/')).toBe('~0~1');
    expect(escapePointerSegment('~1')).toBe('~01');
  });

  it('unescapes ~1 before ~0 so that ~01 stays a literal ~1', () => {
    expect(unescapePointerSegment('~01')).toBe('~1');
    expect(unescapePointerSegment('a~1b')).toBe('a/b');
    expect(unescapePointerSegment('~0~1')).toBe('~/');
  });

  it('rejects a ~ not followed by 0 or 1', () => {
    expect(() => unescapePointerSegment('a~2')).toThrow(/not followed by 0 or 1/);
    expect(() => parseJsonPointer('/a~')).toThrow();
  });

  it('parses the RFC 6901 examples', () => {
    expect(parseJsonPointer('')).toEqual([]);
    expect(parseJsonPointer('/')).toEqual(['']);
    expect(parseJsonPointer('/foo/0')).toEqual(['foo', '0']);
    expect(parseJsonPointer('/a~1b')).toEqual(['a/b']);
    expect(parseJsonPointer('/m~0n')).toEqual(['m~n']);
    expect(parseJsonPointer('/ ')).toEqual([' ']);
  });

  it('rejects a non-empty pointer that does not start with /', () => {
    try {
      parseJsonPointer('foo/bar');
      expect.unreachable();
    } catch (err) {
      expect(isTypesError(err, 'GT_TYPES_BAD_POINTER')).toBe(true);
    }
  });

  it('round-trips arbitrary segments', () => {
    const segments = ['a/b', 'c~d', '~1', '', 'x y', '0'];
    expect(parseJsonPointer(toJsonPointer(segments))).toEqual(segments);
  });
});

describe('StatePath', () => {
  it('converts to and from a pointer with escaping', () => {
    const path = statePath('user', 'a/b', 'm~n');
    expect(statePathToPointer(path)).toBe('/user/a~1b/m~0n');
    expect(statePathFromPointer('/user/a~1b/m~0n')).toEqual(path);
  });

  it('uses "" for the root and reads both "" and upstream\'s "/" as the root', () => {
    expect(statePathToPointer({ segments: [] })).toBe('');
    expect(statePathFromPointer('')).toEqual({ segments: [] });
    expect(statePathFromPointer('/')).toEqual({ segments: [] });
  });

  it('rejects empty segments', () => {
    expect(() => statePath('a', '')).toThrow('/segments/1: state path segment must not be empty');
    expect(() => statePathFromPointer('/a//b')).toThrow(/empty segment at position 1/);
    expect(() => statePathToPointer({ segments: ['a', ''] })).toThrow();
  });

  it('validates StatePath JSON', () => {
    expect(validateStatePath({ segments: ['a', 'b'] })).toEqual({ segments: ['a', 'b'] });
    expect(() => validateStatePath({ segments: ['a', ''] })).toThrow(/^\/segments\/1: must not be empty/);
    expect(() => validateStatePath({ segments: 'a/b' })).toThrow(/^\/segments: must be array/);
    expect(() => validateStatePath({})).toThrow(/^\/segments: is required/);
  });
});
