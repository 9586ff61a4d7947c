import { WIT } from '@greentic/interfaces';

/** Semantic Versioning 2.0.0 (the grammar from semver.org). */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function isSemver(v: unknown): v is string {
  return typeof v === 'string' && SEMVER_PATTERN.test(v);
}

const COMPARATOR =
  /^(?:\^|~|=|>=|<=|>|<)?\s*(?:\d+|\*|x|X)(?:\.(?:\d+|\*|x|X))?(?:\.(?:\d+|\*|x|X))?(?:-[0-9A-Za-z.-]+)?$/;

/** A Cargo-style version requirement: `^1.0.0`, `~1.2`, `>=1, <2`, `1.*`, `*`. */
export function isVersionReq(v: unknown): v is string {
  if (typeof v !== 'string' || v.trim() === '') return false;
  return v.split(',').every((part) => COMPARATOR.test(part.trim()));
}

export interface WitWorld {
  /** `greentic:component` (namespace and package, possibly nested). */
  package: string;
  /** `component` */
  world: string;
  /** `0.6.0`, when given. */
  version?: string;
}

const WIT_ID = '[a-z][a-z0-9]*(?:-[a-z0-9]+)*';
const WORLD_RE = new RegExp(`^(${WIT_ID}(?::${WIT_ID})+)/(${WIT_ID})(?:@(.+))?$`);

/** Parses a WIT world reference `namespace:package/world[@version]`; `undefined` when malformed. */
export function parseWitWorld(ref: string): WitWorld | undefined {
  const m = WORLD_RE.exec(ref);
  if (!m) return undefined;
  if (m[3] !== undefined && !isSemver(m[3])) return undefined;
  return { package: m[1]!, world: m[2]!, ...(m[3] !== undefined ? { version: m[3] } : {}) };
}

/** The worlds a Greentic-TS host runs (from `@greentic/interfaces`). */
export const SUPPORTED_WORLDS: readonly string[] = Object.values(WIT.worlds);

/**
 * Whether a component targeting `ref` can run here: same package and world as a supported one, and a
 * semver-compatible version (same major; for 0.x, same minor). A world without a version is not enough.
 */
export function isSupportedWorld(ref: string): boolean {
  const w = parseWitWorld(ref);
  if (!w?.version) return false;
  const [maj, min] = w.version.split('.');
  return SUPPORTED_WORLDS.some((s) => {
    const sw = parseWitWorld(s)!;
    if (sw.package !== w.package || sw.world !== w.world) return false;
    const [smaj, smin] = sw.version!.split('.');
    return smaj === maj && (smaj !== '0' || smin === min);
  });
}
