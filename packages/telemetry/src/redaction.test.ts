import { describe, expect, it } from 'vitest';
import { isTelemetryError } from './errors.js';
import { compilePattern, REDACTED, Redactor, redactionOptionsFromEnv, splitPatterns } from './redaction.js';

const strict = new Redactor();

describe('Redactor.redactString (strict, built-in patterns)', () => {
  it.each([
    ['email', 'write to alice.smith+tag@mail.example.co.uk today', 'write to [REDACTED] today'],
    [
      'bearer token, scheme kept',
      'Authorization header was Bearer eyJhbGciOi.abc-123_x',
      'Authorization header was Bearer [REDACTED]',
    ],
    ['inline authorization header', 'authorization: Basic dXNlcjpwYXNz', 'authorization: [REDACTED]'],
    ['OpenAI-style key', 'key sk-proj-AbCdEf0123456789xyz used', 'key [REDACTED] used'],
    ['Slack bot token', 'slack xoxb-1234567890-abcdefghij', 'slack [REDACTED]'],
    ['Slack user token', 'token xoxp-1234567890-abcdefghij!', 'token [REDACTED]!'],
    ['AWS access key id', 'aws AKIAIOSFODNN7EXAMPLE here', 'aws [REDACTED] here'],
    ['GitHub token', 'gh ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'gh [REDACTED]'],
    ['JWT', 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r', 'jwt [REDACTED]'],
    [
      'password assignment',
      'login with password=hunter2&user=bob',
      'login with password=[REDACTED]&user=bob',
    ],
    ['JSON secret', '{"client_secret": "abc", "n": 1}', '{"client_secret": "[REDACTED]", "n": 1}'],
    ['long hex after token=', 'url?token=0123456789abcdef0123456789abcdef', 'url?token=[REDACTED]'],
    ['long base64 after api_key:', 'api_key: QUJDREVGR0hJSktMTU5PUA==', 'api_key: [REDACTED]'],
    ['long value after access_key=', 'access_key=ABCDEFGHIJKLMNOPQRST', 'access_key=[REDACTED]'],
    ['E.164 phone', 'call +14155552671 now', 'call [REDACTED] now'],
    ['international phone with spaces', 'call +44 20 7946 0958.', 'call [REDACTED].'],
    ['North-American phone', 'call (415) 555-2671 or 415-555-2671', 'call [REDACTED] or [REDACTED]'],
    ['dotted phone', 'fax 415.555.2671', 'fax [REDACTED]'],
    ['European national phone', 'ring 020 7946 0958', 'ring [REDACTED]'],
    ['payment card', 'card 4111 1111 1111 1111 expired', 'card [REDACTED] expired'],
    ['URL credentials', 'redis://app:s3cr3t@cache:6379/0', 'redis://app:[REDACTED]@cache:6379/0'],
    [
      'PEM private key',
      'k=-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- done',
      'k=[REDACTED] done',
    ],
  ])('masks %s', (_name, input, expected) => {
    expect(strict.redactString(input)).toBe(expected);
  });

  it.each([
    ['plain text', 'the answer is 42'],
    ['a bearer in prose', 'the bearer of bad news'],
    ['a trace id', 'trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7'],
    ['a UUID', 'session 123e4567-e89b-12d3-a456-426614174000'],
    ['an ISO timestamp', 'at 2024-05-12T10:30:00.123Z'],
    ['a date and a year range', '2024-05-12, 2010-2020'],
    ['an IPv4 address', 'from 192.168.100.200'],
    ['a version', 'v1.22.333'],
    ['a dotted number series', 'ids 415.555.2671.9'],
    ['short numbers', 'order 12345678 of 3'],
    ['a failing Luhn number', 'order 4111 1111 1111 1112'],
    ['LLM token counters', 'max_tokens=4096 tokens_used=12'],
    ['a short key value', 'state key=name'],
    ['an at sign without a domain', 'ping @alice'],
    ['a task name with sk-', 'task-0123456789abcdefghij'],
  ])('leaves %s alone', (_name, input) => {
    expect(strict.redactString(input)).toBe(input);
  });

  it('returns the very same string when nothing matches', () => {
    const s = 'nothing to see here, move along';
    expect(strict.redactString(s)).toBe(s);
  });

  it('scans a long run of word characters in linear time', () => {
    const long = 'a'.repeat(200_000);
    const longIdent = 'a_'.repeat(100_000);
    const t0 = performance.now();
    expect(strict.redactString(long)).toBe(long);
    expect(strict.redactString(longIdent)).toBe(longIdent);
    expect(strict.redactString(`${'1 '.repeat(50_000)}`)).toBe('1 '.repeat(50_000));
    // generous bound: quadratic behaviour would take minutes
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe('Redactor fields', () => {
  it('masks deny-listed fields whole, by suffix of the normalized key', () => {
    const out = strict.redactValue({
      password: 'p',
      Authorization: 'anything',
      'x-api-key': 'k',
      client_secret: 's',
      refresh_token: 't',
      DB_PASSWORD: 'p',
      cookie: 'c',
      max_tokens: 4096,
      secret_name: 'db',
      name: 'Bob',
    });
    expect(out).toEqual({
      password: REDACTED,
      Authorization: REDACTED,
      'x-api-key': REDACTED,
      client_secret: REDACTED,
      refresh_token: REDACTED,
      DB_PASSWORD: REDACTED,
      cookie: REDACTED,
      max_tokens: 4096,
      secret_name: 'db',
      name: 'Bob',
    });
  });

  it('masks dotted attribute keys such as http.request.header.authorization', () => {
    const attrs = strict.redactAttributes({
      'http.request.header.authorization': 'Basic xyz',
      'http.method': 'GET',
    });
    expect(attrs).toEqual({ 'http.request.header.authorization': REDACTED, 'http.method': 'GET' });
  });

  it('keeps empty and missing deny-listed values as they are', () => {
    expect(strict.redactValue({ token: '', password: null, secret: undefined })).toEqual({
      token: '',
      password: null,
      secret: undefined,
    });
  });

  it('adds extra deny fields and can drop the defaults', () => {
    const r = new Redactor({ denyFields: ['ssn'], defaultDenyFields: false });
    expect(r.redactValue({ ssn: '123', password: 'x' })).toEqual({ ssn: REDACTED, password: 'x' });
  });

  it('keeps allow-listed fields verbatim in allowlist mode only', () => {
    const input = { user_email: 'bob@example.com', note: 'mail bob@example.com' };
    const allow = new Redactor({ mode: 'allowlist', allowFields: ['USER_EMAIL'] });
    expect(allow.redactValue(input)).toEqual({ user_email: 'bob@example.com', note: 'mail [REDACTED]' });
    const strictWithList = new Redactor({ mode: 'strict', allowFields: ['user_email'] });
    expect(strictWithList.redactValue(input)).toEqual({ user_email: REDACTED, note: 'mail [REDACTED]' });
  });

  it('matches an allow-listed field by the last segment of a dotted key', () => {
    const r = new Redactor({ mode: 'allowlist', allowFields: ['email'] });
    expect(r.redactAttributes({ 'enduser.email': 'a@b.co', other: 'a@b.co' })).toEqual({
      'enduser.email': 'a@b.co',
      other: REDACTED,
    });
  });

  it('lets an explicit allow entry win over a default deny entry', () => {
    const r = new Redactor({ mode: 'allowlist', allowFields: ['token'] });
    expect(r.redactValue({ token: 'abc' })).toEqual({ token: 'abc' });
  });
});

describe('Redactor.redactValue', () => {
  it('copies instead of mutating, and keeps unchanged subtrees', () => {
    const keep = { a: 1 };
    const input = { keep, list: ['x', 'mail a@b.co'], nested: { deep: { email: 'z@y.io' } } };
    const snapshot = structuredClone(input);
    const out = strict.redactValue(input);
    expect(input).toEqual(snapshot);
    expect(out.keep).toBe(keep);
    expect(out.list).toEqual(['x', 'mail [REDACTED]']);
    expect(out.nested.deep.email).toBe(REDACTED);
  });

  it('returns the same object when nothing changed', () => {
    const input = { a: 'plain', b: [1, 2], c: { d: true } };
    expect(strict.redactValue(input)).toBe(input);
  });

  it('clones an Error with message, stack, properties and cause redacted', () => {
    const cause = new Error('upstream said a@b.co');
    const err = Object.assign(new TypeError('failed for bob@example.com', { cause }), {
      code: 'E1',
      token: 'x',
    });
    const out = strict.redactValue(err);
    expect(out).not.toBe(err);
    expect(out).toBeInstanceOf(TypeError);
    expect(out.message).toBe('failed for [REDACTED]');
    expect(out.stack).not.toContain('bob@example.com');
    expect((out as unknown as { code: string }).code).toBe('E1');
    expect((out as unknown as { token: string }).token).toBe(REDACTED);
    expect((out.cause as Error).message).toBe('upstream said [REDACTED]');
    expect(err.message).toBe('failed for bob@example.com');
  });

  it('leaves class instances, dates and buffers alone', () => {
    const d = new Date(0);
    const b = Buffer.from('a@b.co');
    expect(strict.redactValue({ d, b }).d).toBe(d);
    expect(strict.redactValue(b)).toBe(b);
  });

  it('stops at a cycle instead of recursing forever', () => {
    const a: Record<string, unknown> = { email: 'a@b.co' };
    a.self = a;
    const out = strict.redactValue(a) as Record<string, unknown>;
    expect(out.email).toBe(REDACTED);
  });

  it('redacts string arrays inside attributes', () => {
    expect(strict.redactAttributes({ to: ['a@b.co', 'ok'], n: [1, 2] })).toEqual({
      to: [REDACTED, 'ok'],
      n: [1, 2],
    });
  });
});

describe('modes and options', () => {
  it('off changes nothing, not even deny-listed fields', () => {
    const off = new Redactor({ mode: 'off' });
    const v = { password: 'x', note: 'a@b.co' };
    expect(off.redactValue(v)).toBe(v);
    expect(off.redactString('a@b.co')).toBe('a@b.co');
    expect(off.enabled).toBe(false);
  });

  it('applies extra patterns and a custom replacement', () => {
    const r = new Redactor({ patterns: [/EMP-\d+/, '(?i)case-[a-z]+'], replacement: '***' });
    expect(r.redactString('EMP-42 and CASE-abc and a@b.co')).toBe('*** and *** and ***');
  });

  it('can drop the built-in patterns', () => {
    const r = new Redactor({ defaultPatterns: false, patterns: ['EMP-\\d+'] });
    expect(r.redactString('EMP-42 a@b.co')).toBe('[REDACTED] a@b.co');
  });

  it('rejects an unknown mode', () => {
    expect(() => new Redactor({ mode: 'loose' as never })).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_CONFIG', setting: 'redaction.mode' }),
    );
  });
});

describe('PII_* environment', () => {
  it('reads upstream variables', () => {
    const options = redactionOptionsFromEnv({
      PII_REDACTION_MODE: 'Allowlist',
      PII_ALLOWLIST_FIELDS: 'user_id, email ,',
      PII_MASK_REGEXES: String.raw`(?i)secret\s*[:=]\s*[a-z0-9]+\b,EMP-\d{3,4}`,
      PII_DENY_FIELDS: 'ssn',
    });
    expect(options.mode).toBe('allowlist');
    expect(options.allowFields).toEqual(['user_id', 'email']);
    expect(options.denyFields).toEqual(['ssn']);
    expect(options.patterns).toHaveLength(2);
    const r = new Redactor(options);
    // the built-in secret pattern keeps the name; the custom ones replace their whole match
    expect(r.redactString('Secret = abcdef and EMP-1234')).toBe('Secret = [REDACTED] and [REDACTED]');
    expect(new Redactor({ ...options, defaultPatterns: false }).redactString('secret=abc')).toBe(
      '[REDACTED]',
    );
  });

  it('treats none as off and defaults to strict', () => {
    expect(Redactor.fromEnv({ PII_REDACTION_MODE: 'none' }).mode).toBe('off');
    expect(Redactor.fromEnv({}).mode).toBe('strict');
  });

  it('lets explicit options win over the environment', () => {
    expect(Redactor.fromEnv({ PII_REDACTION_MODE: 'off' }, { mode: 'strict' }).mode).toBe('strict');
    expect(Redactor.fromEnv({ PII_REDACTION_MODE: 'off' }, { mode: undefined }).mode).toBe('off');
  });

  it('refuses a misspelt mode instead of silently turning redaction off', () => {
    try {
      redactionOptionsFromEnv({ PII_REDACTION_MODE: 'strcit' });
      expect.unreachable();
    } catch (e) {
      expect(isTelemetryError(e, 'GT_TELEMETRY_BAD_CONFIG')).toBe(true);
      expect((e as Error).message).toContain('PII_REDACTION_MODE');
    }
  });

  it('refuses an invalid regex, naming its position', () => {
    expect(() => redactionOptionsFromEnv({ PII_MASK_REGEXES: 'ok,(unclosed' })).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_PATTERN', setting: 'PII_MASK_REGEXES[1]' }),
    );
  });

  it('refuses a pattern that matches the empty string', () => {
    expect(() => compilePattern('a*', 'p')).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_PATTERN' }),
    );
  });

  it('refuses a JSON list that is not a list of strings', () => {
    expect(() => splitPatterns('[1,2]')).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_CONFIG' }),
    );
    expect(() => splitPatterns('[oops')).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_CONFIG' }),
    );
  });
});

describe('splitPatterns and compilePattern', () => {
  it('does not split on commas inside quantifiers, classes, groups or after a backslash', () => {
    expect(splitPatterns(String.raw`\d{3,4}, [a,b]x ,(c|d,e),f\,g`)).toEqual([
      String.raw`\d{3,4}`,
      '[a,b]x',
      '(c|d,e)',
      String.raw`f\,g`,
    ]);
  });

  it('reads a JSON array', () => {
    expect(splitPatterns('["a{1,2}", "b"]')).toEqual(['a{1,2}', 'b']);
  });

  it('accepts /source/flags, inline (?i) and (?P<name>)', () => {
    expect(compilePattern('/abc/i', 'p').flags).toBe('gi');
    expect(compilePattern('(?i)abc', 'p').flags).toBe('gi');
    expect(compilePattern('(?P<n>x)', 'p').source).toBe('(?<n>x)');
    expect(() => compilePattern('(?x)abc', 'p')).toThrowError(
      expect.objectContaining({ code: 'GT_TELEMETRY_BAD_PATTERN' }),
    );
  });
});
