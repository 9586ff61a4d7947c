import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { TelemetryError } from './errors.js';

/**
 * How values are redacted (upstream `PII_REDACTION_MODE`):
 * - `off`: nothing is changed.
 * - `strict`: deny-listed fields are masked whole; every other string is scanned for PII patterns.
 * - `allowlist`: like `strict`, except that fields named in `allowFields` are kept verbatim.
 */
export type RedactionMode = 'off' | 'strict' | 'allowlist';

export const REDACTION_MODES: readonly RedactionMode[] = ['off', 'strict', 'allowlist'];

/** What a redacted value (or part of a string) is replaced by. */
export const REDACTED = '[REDACTED]';

/**
 * Field names whose values are masked whole. A key matches when, lowercased and stripped of everything but
 * letters and digits, it equals or ends with an entry: `Authorization`, `http.request.header.authorization`,
 * `x-api-key`, `client_secret`, `DB_PASSWORD` and `refresh_token` match; `max_tokens` and `secret_name` do not.
 */
export const DEFAULT_DENY_FIELDS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'api_key',
  'apikey',
  'cookie',
  'private_key',
  'credentials',
]);

export interface RedactionOptions {
  /** Default `strict` (upstream's default is `off`; see docs/telemetry.md). */
  mode?: RedactionMode;
  /** `allowlist` mode: fields whose values are kept verbatim (matched by full key or its last dotted segment, case-insensitively). */
  allowFields?: readonly string[];
  /** Extra fields to mask whole, on top of {@link DEFAULT_DENY_FIELDS}. */
  denyFields?: readonly string[];
  /** Set to `false` to drop {@link DEFAULT_DENY_FIELDS} and mask only `denyFields`. */
  defaultDenyFields?: boolean;
  /** Extra patterns; each match is replaced. Strings are compiled as regular expressions (`(?i)` prefix and `/src/flags` accepted). */
  patterns?: readonly (RegExp | string)[];
  /** Set to `false` to drop the built-in patterns (emails, bearer tokens, API keys, phone and card numbers). */
  defaultPatterns?: boolean;
  /** Default `[REDACTED]`. */
  replacement?: string;
}

type Kind = 'plain' | 'phone' | 'card';

interface PatternGroup {
  /** The group runs only on strings that contain this (a cheap `includes` check first). */
  guard?: string;
  re: RegExp;
  kinds: readonly Kind[];
}

/** `prefix` followed by `rest`, where `prefix` must not continue a longer token (`task-…` is not `sk-…`). */
const token = (prefix: string, rest: string) => `${prefix}(?<![a-z0-9_-]${prefix})${rest}`;

/**
 * The built-in patterns. Each alternative has exactly one capturing group: the part that is kept (a prefix such as
 * `Bearer ` or `=`), possibly empty. Alternatives start with a plain character (never with a lookbehind), which lets
 * the regex engine skip quickly over positions where none can start; boundaries are checked by a lookbehind after
 * that first character. Assignments (`password=…`) start at the `:`/`=` and look back for the name.
 */
const BUILTIN: readonly { guard?: string; alternatives: readonly { kind: Kind; source: string }[] }[] = [
  {
    alternatives: [
      // PEM private keys
      {
        kind: 'plain',
        source: String.raw`()-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`,
      },
      // an authorization header written inline: "Authorization: Basic xxx"
      {
        kind: 'plain',
        source: String.raw`([:=](?<=\b(?:proxy-)?authorization["']?\s*[:=])\s*["']?)(?:(?:bearer|basic|digest|token)\s+)?[^\s"',;&]+`,
      },
      // password=…, secret: …, api_key=… (any value)
      {
        kind: 'plain',
        source: String.raw`([:=](?<=(?<![a-z0-9_-])(?:[a-z0-9]+[_-])*(?:password|passwd|pwd|passphrase|secret|api[_-]?key)["']?\s*[:=])\s*["']?)[^\s"'&,;]+`,
      },
      // key=…, token=…, access_token=… followed by a long hex/base64 value
      {
        kind: 'plain',
        source: String.raw`([:=](?<=(?<![a-z0-9_-])(?:[a-z0-9]+[_-])*(?:key|token)["']?\s*[:=])\s*["']?)[a-z0-9+/_.=-]{16,}`,
      },
      // bearer tokens (at least 6 characters, one of them a digit, so that "bearer of bad news" survives)
      { kind: 'plain', source: String.raw`(\bbearer\s+)(?=[a-z._~+/-]*\d)[a-z0-9._~+/-]{6,}=*` },
      // JSON Web Tokens
      { kind: 'plain', source: String.raw`()\beyJ[a-z0-9_-]{5,}\.eyJ[a-z0-9_-]{5,}\.[a-z0-9_-]{5,}` },
      // provider API keys: OpenAI/Anthropic sk-…, Stripe, Slack xox?-…, AWS access key ids, GitHub, Google, GitLab
      {
        kind: 'plain',
        source: `()(?:${[
          token('sk-', '[a-z0-9_-]{16,}'),
          token('(?:sk|pk|rk)_(?:live|test)_', '[a-z0-9]{10,}'),
          token('xox[abposr]-', '[a-z0-9-]{10,}'),
          token('(?:AKIA|ASIA)', '[A-Z0-9]{16}(?![a-z0-9])'),
          token('gh[pousr]_', '[a-z0-9]{30,}'),
          token('github_pat_', '[a-z0-9_]{22,}'),
          token('AIza', '[a-z0-9_-]{35}'),
          token('glpat-', '[a-z0-9_-]{20,}'),
        ].join('|')})`,
      },
      // payment card numbers (13–19 digits, Luhn-checked)
      { kind: 'card', source: String.raw`()\d(?<![\w.+-]\d)(?:[ -]?\d){12,18}(?!\w|[.-]\d)` },
      // phone numbers: E.164 / international (+…), North-American (555) 123-4567, European national 020 7946 0958
      {
        kind: 'phone',
        source: String.raw`()(?:\+(?<![\w+]\+)\d[\d\s().-]{6,20}\d|(?:\((?<![\w+.]\()\d{3}\)\s?|\d(?<![\w+.]\d)\d{2}[\s.-])\d{3}[\s.-]\d{4}|0(?<![\w+.]0)\d{1,4}[\s-]\d{3,4}[\s-]?\d{3,4})(?!\w|[.-]\d)`,
      },
    ],
  },
  {
    guard: '@',
    alternatives: [
      // credentials in URLs: scheme://user:password@host
      { kind: 'plain', source: String.raw`(:\/\/[^\s:/@]+:)[^\s/@]+(?=@)` },
      // email addresses
      {
        kind: 'plain',
        source: String.raw`()(?<![a-z0-9._%+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}`,
      },
    ],
  },
];

const BUILTIN_GROUPS: readonly PatternGroup[] = BUILTIN.map((g) => ({
  ...(g.guard !== undefined ? { guard: g.guard } : {}),
  re: new RegExp(g.alternatives.map((a) => a.source).join('|'), 'gi'),
  kinds: g.alternatives.map((a) => a.kind),
}));
/** Shortest string any built-in pattern can match ("a@b.co"). */
const MIN_MATCH = 6;
const MAX_DEPTH = 16;
const CACHE_LIMIT = 4096;

/** What happens to a field's value: scanned for patterns, masked whole, or kept. */
type Policy = 0 | 1 | 2;
const Policy = { Scan: 0, Deny: 1, Allow: 2 } as const;

/**
 * Masks PII in strings, log records and span attributes. Build one per process (patterns are compiled once) and
 * share it; every method returns its input unchanged (the same object) when there is nothing to mask.
 */
export class Redactor {
  /** A redactor that changes nothing. */
  static readonly OFF: Redactor = new Redactor({ mode: 'off' });

  readonly mode: RedactionMode;
  readonly replacement: string;
  /** False in `off` mode: callers may skip redaction entirely. */
  readonly enabled: boolean;
  private readonly builtin: boolean;
  private readonly extra: readonly RegExp[];
  private readonly deny: readonly string[];
  private readonly allow: ReadonlySet<string>;
  private readonly policies = new Map<string, Policy>();
  private readonly replacers: readonly ((match: string, ...rest: unknown[]) => string)[];

  constructor(options: RedactionOptions = {}) {
    const mode = options.mode ?? 'strict';
    if (!REDACTION_MODES.includes(mode)) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `redaction mode must be one of ${REDACTION_MODES.join(', ')} (got ${JSON.stringify(mode)})`,
        'redaction.mode',
      );
    }
    this.mode = mode;
    this.enabled = mode !== 'off';
    this.replacement = options.replacement ?? REDACTED;
    this.builtin = options.defaultPatterns !== false;
    this.extra = (options.patterns ?? []).map((p, i) => compilePattern(p, `redaction.patterns[${i}]`));
    this.deny = [
      ...(options.defaultDenyFields === false ? [] : DEFAULT_DENY_FIELDS),
      ...(options.denyFields ?? []),
    ]
      .map(normalizeKey)
      .filter((k) => k !== '');
    this.allow = new Set(
      mode === 'allowlist' ? (options.allowFields ?? []).map(normalizeKey).filter((k) => k !== '') : [],
    );
    const replacement = this.replacement;
    this.replacers = BUILTIN_GROUPS.map(({ kinds }) => (match: string, ...rest: unknown[]) => {
      for (let i = 0; i < kinds.length; i++) {
        const kept = rest[i];
        if (kept === undefined) continue;
        const kind = kinds[i];
        if (kind === 'phone' && !plausiblePhone(match)) return match;
        if (kind === 'card' && !luhn(match)) return match;
        return (kept as string) + replacement;
      }
      return replacement;
    });
  }

  /**
   * A redactor configured by `PII_REDACTION_MODE`, `PII_ALLOWLIST_FIELDS`, `PII_MASK_REGEXES` and `PII_DENY_FIELDS`;
   * `overrides` win over the environment.
   */
  static fromEnv(
    env: Readonly<Record<string, string | undefined>> = process.env,
    overrides: RedactionOptions = {},
  ): Redactor {
    return new Redactor({ ...redactionOptionsFromEnv(env), ...stripUndefined(overrides) });
  }

  /** Masks every PII pattern found in `text`. */
  redactString(text: string): string {
    if (!this.enabled || text.length < MIN_MATCH) return text;
    let out = text;
    if (this.builtin) {
      for (let i = 0; i < BUILTIN_GROUPS.length; i++) {
        const g = BUILTIN_GROUPS[i]!;
        if (g.guard === undefined || out.includes(g.guard)) out = out.replace(g.re, this.replacers[i]!);
      }
    }
    for (const re of this.extra) out = out.replace(re, this.replacement);
    return out;
  }

  /** True when values of this field are masked whole. */
  isDenied(key: string): boolean {
    return this.enabled && this.policy(key) === Policy.Deny;
  }

  /** Redacts the value of one named field (a log property, a span attribute). */
  redactField(key: string, value: unknown): unknown {
    if (!this.enabled) return value;
    const policy = this.policy(key);
    if (policy === Policy.Allow) return value;
    if (policy === Policy.Deny)
      return value === undefined || value === null || value === '' ? value : this.replacement;
    return this.redactValue(value);
  }

  /**
   * Redacts a value deeply: strings are scanned, plain objects and arrays are copied when something inside them
   * changes (the input is never modified), `Error`s are cloned with their message, stack and properties redacted.
   * Other objects (Dates, Buffers, class instances) are returned as they are.
   */
  redactValue<T>(value: T): T {
    if (!this.enabled) return value;
    return this.walk(value, 0) as T;
  }

  /** Redacts OpenTelemetry attributes; returns the same object when nothing changed. */
  redactAttributes(attributes: Attributes): Attributes {
    if (!this.enabled) return attributes;
    let out: Attributes | undefined;
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined) continue;
      const redacted = this.redactAttribute(key, value);
      if (redacted !== value) {
        out ??= { ...attributes };
        out[key] = redacted;
      }
    }
    return out ?? attributes;
  }

  private redactAttribute(key: string, value: AttributeValue): AttributeValue {
    const policy = this.policy(key);
    if (policy === Policy.Allow) return value;
    if (policy === Policy.Deny) return this.replacement;
    if (typeof value === 'string') return this.redactString(value);
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (typeof v !== 'string') continue;
        const r = this.redactString(v);
        if (r !== v) {
          out ??= [...value];
          out[i] = r;
        }
      }
      return (out as AttributeValue | undefined) ?? value;
    }
    return value;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= MAX_DEPTH) return this.replacement;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        const r = this.walk(v, depth + 1);
        if (r !== v) {
          out ??= [...value];
          out[i] = r;
        }
      }
      return out ?? value;
    }
    if (value instanceof Error) return this.redactError(value, depth);
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return this.redactEntries(value as Record<string, unknown>, depth) ?? value;
  }

  /** A redacted copy of the object's own enumerable properties, or undefined when nothing changed. */
  private redactEntries(obj: Record<string, unknown>, depth: number): Record<string, unknown> | undefined {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      const policy = this.policy(key);
      let r: unknown;
      if (policy === Policy.Allow) r = v;
      else if (policy === Policy.Deny) r = v === undefined || v === null || v === '' ? v : this.replacement;
      else r = this.walk(v, depth + 1);
      if (r !== v) {
        out ??= { ...obj };
        out[key] = r;
      }
    }
    return out;
  }

  private redactError(err: Error, depth: number): Error {
    const message = this.redactString(err.message);
    const stack = typeof err.stack === 'string' ? this.redactString(err.stack) : err.stack;
    const props = this.redactEntries(err as unknown as Record<string, unknown>, depth);
    const cause = 'cause' in err ? this.walk(err.cause, depth + 1) : undefined;
    if (message === err.message && stack === err.stack && props === undefined && cause === err.cause)
      return err;
    const copy = Object.create(Object.getPrototypeOf(err)) as Error;
    Object.assign(copy, props ?? err);
    Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true });
    Object.defineProperty(copy, 'stack', { value: stack, writable: true, configurable: true });
    if ('cause' in err)
      Object.defineProperty(copy, 'cause', { value: cause, writable: true, configurable: true });
    if (Object.hasOwn(err, 'name'))
      Object.defineProperty(copy, 'name', { value: err.name, writable: true, configurable: true });
    return copy;
  }

  private policy(key: string): Policy {
    let p = this.policies.get(key);
    if (p !== undefined) return p;
    const norm = normalizeKey(key);
    const last = key.lastIndexOf('.');
    if (
      this.allow.size > 0 &&
      (this.allow.has(norm) || (last >= 0 && this.allow.has(normalizeKey(key.slice(last + 1)))))
    ) {
      p = Policy.Allow;
    } else if (norm !== '' && this.deny.some((d) => norm.endsWith(d))) {
      p = Policy.Deny;
    } else {
      p = Policy.Scan;
    }
    if (this.policies.size >= CACHE_LIMIT) this.policies.clear();
    this.policies.set(key, p);
    return p;
  }
}

/** Reads the upstream-compatible `PII_*` variables. Throws `GT_TELEMETRY_BAD_CONFIG` / `GT_TELEMETRY_BAD_PATTERN`. */
export function redactionOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RedactionOptions {
  const options: RedactionOptions = {};
  const rawMode = env.PII_REDACTION_MODE?.trim().toLowerCase();
  if (rawMode) {
    const mode = rawMode === 'none' ? 'off' : rawMode;
    if (!REDACTION_MODES.includes(mode as RedactionMode)) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `PII_REDACTION_MODE must be off, strict or allowlist (got ${JSON.stringify(env.PII_REDACTION_MODE)}); unset it for the default (strict)`,
        'PII_REDACTION_MODE',
      );
    }
    options.mode = mode as RedactionMode;
  }
  if (env.PII_ALLOWLIST_FIELDS?.trim()) options.allowFields = splitList(env.PII_ALLOWLIST_FIELDS);
  if (env.PII_DENY_FIELDS?.trim()) options.denyFields = splitList(env.PII_DENY_FIELDS);
  if (env.PII_MASK_REGEXES?.trim()) {
    options.patterns = splitPatterns(env.PII_MASK_REGEXES).map((src, i) =>
      compilePattern(src, `PII_MASK_REGEXES[${i}]`),
    );
  }
  return options;
}

/** Accepts a Redactor, options (merged over the `PII_*` environment) or `false` (no redaction). */
export function resolveRedactor(
  redaction: Redactor | RedactionOptions | false | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Redactor {
  if (redaction === false) return Redactor.OFF;
  if (redaction instanceof Redactor) return redaction;
  return Redactor.fromEnv(env, redaction ?? {});
}

/**
 * Splits `PII_MASK_REGEXES`: a JSON array of strings, or a comma-separated list (upstream's format) where commas
 * inside `{}`, `[]`, `()` or after a backslash do not split — `\d{3,4}` stays one pattern.
 */
export function splitPatterns(value: string): string[] {
  const text = value.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `PII_MASK_REGEXES starts with "[" but is not a JSON array of strings: ${(e as Error).message}`,
        'PII_MASK_REGEXES',
        { cause: e },
      );
    }
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        'PII_MASK_REGEXES must be a JSON array of strings',
        'PII_MASK_REGEXES',
      );
    }
    return parsed.filter((p) => p.trim() !== '');
  }
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * Compiles a user pattern to a global RegExp. Accepts a RegExp, `/source/flags`, or a source string with an
 * optional leading inline flag group such as `(?i)` (upstream's Rust syntax); `(?P<name>` becomes `(?<name>`.
 */
export function compilePattern(pattern: RegExp | string, setting: string): RegExp {
  let re: RegExp;
  if (pattern instanceof RegExp) {
    re = pattern.global
      ? new RegExp(pattern.source, pattern.flags)
      : new RegExp(pattern.source, pattern.flags + 'g');
  } else {
    let source = pattern;
    let flags = 'g';
    const literal = /^\/(.+)\/([a-z]*)$/s.exec(source);
    if (literal) {
      source = literal[1]!;
      flags += literal[2]!.replace(/g/g, '');
    } else {
      const inline = /^\(\?([a-z]+)\)/.exec(source);
      if (inline) {
        for (const f of inline[1]!) {
          if (!'ims'.includes(f)) {
            throw new TelemetryError(
              'GT_TELEMETRY_BAD_PATTERN',
              `${setting}: inline flag "${f}" is not supported (use i, m or s): ${pattern}`,
              setting,
            );
          }
        }
        flags += inline[1];
        source = source.slice(inline[0].length);
      }
      source = source.replace(/\(\?P</g, '(?<');
    }
    try {
      re = new RegExp(source, flags);
    } catch (e) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_PATTERN',
        `${setting}: not a valid regular expression (${(e as Error).message})`,
        setting,
        { cause: e },
      );
    }
  }
  re.lastIndex = 0;
  if (re.test('')) {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_PATTERN',
      `${setting}: pattern ${re} matches the empty string, so it would mask everything; make it match at least one character`,
      setting,
    );
  }
  re.lastIndex = 0;
  return re;
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function stripUndefined(options: RedactionOptions): RedactionOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as RedactionOptions;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function plausiblePhone(s: string): boolean {
  const digits = countDigits(s);
  return digits >= 8 && digits <= 15;
}

function luhn(s: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let d = c - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
