import { SecretsError } from './errors.js';

/** Patterns that grant secrets. */
export interface AllowRules {
  /** Greentic patterns: `name`, `category/name`, with `*` and `?` globs (`telegram_*`, `openai/*`, `*`). */
  allow?: string[];
  /** Upstream's form: environment-variable style keys (`TELEGRAM_BOT_TOKEN`), matched as lowercase names. */
  allow_env?: string[];
}

/** A tenant's rules, plus rules that apply only to callers of one of its teams. */
export interface TenantAllowRules extends AllowRules {
  teams?: Record<string, AllowRules>;
}

/**
 * The allow-list document (upstream-like):
 *
 * ```json
 * { "tenants": { "acme": { "allow": ["openai/*", "telegram_bot_token"], "teams": { "support": { "allow": ["zendesk/*"] } } } },
 *   "global": { "allow": ["sentry_dsn"] } }
 * ```
 *
 * `global` applies to every tenant. Anything not granted is denied.
 */
export interface AllowListDoc {
  tenants?: Record<string, TenantAllowRules>;
  global?: AllowRules;
}

/** What a pattern is matched against: a secret's category and name (lowercase URI segments). */
export interface AllowTarget {
  category: string;
  name: string;
}

/** Why a secret is granted (`source` is `global`, `tenants.acme` or `tenants.acme.teams.support`). */
export interface AllowMatch {
  source: string;
  pattern: string;
}

interface CompiledPattern {
  pattern: string;
  category: RegExp | undefined;
  name: RegExp;
}

const PATTERN_CHARS = /^[A-Za-z0-9._*?/-]+$/;

function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\-]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

function bad(pointer: string, message: string): never {
  throw new SecretsError('GT_SECRETS_INVALID', `allow-list ${pointer}: ${message}`);
}

function compileRules(
  rules: unknown,
  pointer: string,
  allowTeams: boolean,
): { patterns: CompiledPattern[]; teams: Map<string, CompiledPattern[]> } {
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules))
    bad(pointer, 'must be an object like {"allow": [...]}');
  const r = rules as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (k !== 'allow' && k !== 'allow_env' && !(allowTeams && k === 'teams')) {
      bad(
        `${pointer}/${k}`,
        `unknown key; expected ${allowTeams ? '"allow", "allow_env" or "teams"' : '"allow" or "allow_env"'}`,
      );
    }
  }
  const patterns: CompiledPattern[] = [];
  for (const field of ['allow', 'allow_env'] as const) {
    const list = r[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) bad(`${pointer}/${field}`, 'must be an array of strings');
    list.forEach((p, i) => {
      const at = `${pointer}/${field}/${i}`;
      if (typeof p !== 'string' || p === '') bad(at, 'must be a non-empty string');
      if (!PATTERN_CHARS.test(p))
        bad(at, `${JSON.stringify(p)} may only contain letters, digits, ".", "_", "-", "/", "*" and "?"`);
      const lower = p.toLowerCase();
      if (field === 'allow_env' && lower.includes('/'))
        bad(at, `${JSON.stringify(p)}: allow_env entries are names without "/"`);
      const parts = lower.split('/');
      if (parts.length > 2 || parts.some((x) => x === ''))
        bad(at, `${JSON.stringify(p)} must be "name" or "category/name"`);
      patterns.push({
        pattern: lower,
        category: parts.length === 2 ? globToRegExp(parts[0]!) : undefined,
        name: globToRegExp(parts[parts.length - 1]!),
      });
    });
  }
  const teams = new Map<string, CompiledPattern[]>();
  if (allowTeams && r.teams !== undefined) {
    if (typeof r.teams !== 'object' || r.teams === null || Array.isArray(r.teams))
      bad(`${pointer}/teams`, 'must be an object of team ids');
    for (const [team, tr] of Object.entries(r.teams as Record<string, unknown>)) {
      teams.set(team, compileRules(tr, `${pointer}/teams/${team}`, false).patterns);
    }
  }
  return { patterns, teams };
}

function matches(p: CompiledPattern, t: AllowTarget): boolean {
  return p.name.test(t.name) && (p.category === undefined || p.category.test(t.category));
}

/**
 * A compiled, validated allow-list. Deny by default: {@link grants} answers only for patterns in `global`, the
 * caller's tenant, or the caller's team within that tenant. Build with {@link parseAllowList}.
 */
export class SecretsAllowList {
  readonly #doc: AllowListDoc;
  readonly #global: CompiledPattern[];
  readonly #tenants: Map<string, { patterns: CompiledPattern[]; teams: Map<string, CompiledPattern[]> }>;

  private constructor(doc: AllowListDoc) {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      bad(
        '(root)',
        'must be an object like {"tenants": {"acme": {"allow": [...]}}, "global": {"allow": [...]}}',
      );
    }
    for (const k of Object.keys(doc))
      if (k !== 'tenants' && k !== 'global') bad(`/${k}`, 'unknown key; expected "tenants" or "global"');
    this.#global = doc.global === undefined ? [] : compileRules(doc.global, '/global', false).patterns;
    this.#tenants = new Map();
    if (doc.tenants !== undefined) {
      if (typeof doc.tenants !== 'object' || doc.tenants === null || Array.isArray(doc.tenants))
        bad('/tenants', 'must be an object of tenant ids');
      for (const [tenant, rules] of Object.entries(doc.tenants))
        this.#tenants.set(tenant, compileRules(rules, `/tenants/${tenant}`, true));
    }
    this.#doc = structuredClone(doc);
  }

  /** Validates an allow-list document (throws `GT_SECRETS_INVALID` naming the JSON pointer). */
  static parse(doc: unknown): SecretsAllowList {
    return new SecretsAllowList(doc as AllowListDoc);
  }

  /** The allow-list that grants nothing. */
  static denyAll(): SecretsAllowList {
    return new SecretsAllowList({});
  }

  /** The first rule that grants `target` to a caller of `tenant` (and `team`), or `undefined`: denied. */
  grants(scope: { tenant: string; team?: string | undefined }, target: AllowTarget): AllowMatch | undefined {
    const t = { category: target.category.toLowerCase(), name: target.name.toLowerCase() };
    const tenant = this.#tenants.get(scope.tenant);
    if (tenant) {
      if (scope.team !== undefined) {
        for (const p of tenant.teams.get(scope.team) ?? []) {
          if (matches(p, t))
            return { source: `tenants.${scope.tenant}.teams.${scope.team}`, pattern: p.pattern };
        }
      }
      for (const p of tenant.patterns)
        if (matches(p, t)) return { source: `tenants.${scope.tenant}`, pattern: p.pattern };
    }
    for (const p of this.#global) if (matches(p, t)) return { source: 'global', pattern: p.pattern };
    return undefined;
  }

  /** The tenants the document names. */
  get tenants(): string[] {
    return [...this.#tenants.keys()];
  }

  toJSON(): AllowListDoc {
    return structuredClone(this.#doc);
  }
}

/** Parses an allow-list document, or returns a compiled one as is. */
export function parseAllowList(doc: AllowListDoc | SecretsAllowList | unknown): SecretsAllowList {
  return doc instanceof SecretsAllowList ? doc : SecretsAllowList.parse(doc);
}
