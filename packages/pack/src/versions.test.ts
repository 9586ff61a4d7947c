import { describe, expect, it } from 'vitest';
import { packPathProblem } from './paths.js';
import { isSemver, isSupportedWorld, isVersionReq, parseWitWorld } from './versions.js';

describe('versions and worlds', () => {
  it('parses WIT world references', () => {
    expect(parseWitWorld('greentic:component/component@0.6.0')).toEqual({
      package: 'greentic:component',
      world: 'component',
      version: '0.6.0',
    });
    expect(parseWitWorld('root:component/root')).toEqual({ package: 'root:component', world: 'root' });
    for (const bad of ['@@@', 'component', 'greentic:component', 'Greentic:x/y', 'a:b/c@one']) {
      expect(parseWitWorld(bad)).toBeUndefined();
    }
  });

  it('supports the greentic:component@0.6 worlds only', () => {
    expect(isSupportedWorld('greentic:component/component@0.6.0')).toBe(true);
    expect(isSupportedWorld('greentic:component/tool@0.6.2')).toBe(true);
    expect(isSupportedWorld('greentic:component/component@0.5.0')).toBe(false);
    expect(isSupportedWorld('greentic:component/component')).toBe(false);
    expect(isSupportedWorld('root:component/root')).toBe(false);
  });

  it('checks semver and version requirements', () => {
    expect(isSemver('1.2.3-rc.1+build.5')).toBe(true);
    expect(isSemver('1.2')).toBe(false);
    expect(isSemver('01.2.3')).toBe(false);
    for (const ok of ['^1.0.0', '~1.2', '>=1, <2', '1.*', '*', '=0.6.0']) expect(isVersionReq(ok)).toBe(true);
    for (const bad of ['', 'soon', '^', '1.0.0 || 2.0.0']) expect(isVersionReq(bad)).toBe(false);
  });

  it('accepts only relative, normalised pack paths', () => {
    expect(packPathProblem('components/echo.wasm')).toBeUndefined();
    expect(packPathProblem('assets/ünïcode name.txt')).toBeUndefined();
    expect(packPathProblem('../x')).toMatch(/leaves the pack/);
    expect(packPathProblem('/x')).toMatch(/absolute/);
    expect(packPathProblem('D:/x')).toMatch(/drive letter/);
    expect(packPathProblem('a\\b')).toMatch(/backslash/);
    expect(packPathProblem('a/./b')).toMatch(/"\." segment/);
    expect(packPathProblem('a/')).toMatch(/empty segment/);
    expect(packPathProblem('a\nb')).toMatch(/control character/);
    expect(packPathProblem('x'.repeat(600))).toMatch(/longer than/);
  });
});
