import { timingSafeEqual } from 'node:crypto';
import { jsonErrorPosition, SecretsError } from './errors.js';

/** How a secret's bytes are meant to be read (upstream `SecretFormat`). */
export type SecretFormat = 'text' | 'json' | 'bytes';

export const SECRET_FORMATS: readonly SecretFormat[] = ['text', 'json', 'bytes'];

export function isSecretFormat(v: unknown): v is SecretFormat {
  return v === 'text' || v === 'json' || v === 'bytes';
}

/** What every redacted rendering of a secret shows. */
export const REDACTED = '[redacted]';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * A secret's value: bytes plus their {@link SecretFormat}. Every way an object gets printed shows `[redacted]`:
 * `String(v)`, template literals, `JSON.stringify`, `util.inspect`/`console.log`, and `structuredClone` (which
 * drops the private bytes). The bytes come out only through an explicit {@link reveal}, {@link revealText} or
 * {@link revealJson}.
 */
export class SecretValue {
  readonly #bytes: Uint8Array;
  /** How the bytes are meant to be read. */
  readonly format: SecretFormat;

  private constructor(bytes: Uint8Array, format: SecretFormat) {
    this.#bytes = bytes;
    this.format = format;
    Object.freeze(this);
  }

  /** A UTF-8 text secret. */
  static text(text: string): SecretValue {
    if (typeof text !== 'string')
      throw new SecretsError('GT_SECRETS_INVALID', 'a text secret must be a string');
    return new SecretValue(encoder.encode(text), 'text');
  }

  /** A JSON secret: `value` is serialized (it must be JSON-serializable). */
  static json(value: unknown): SecretValue {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    if (text === undefined)
      throw new SecretsError('GT_SECRETS_INVALID', 'a JSON secret must be JSON-serializable');
    return new SecretValue(encoder.encode(text), 'json');
  }

  /** Raw bytes (copied). */
  static bytes(bytes: Uint8Array): SecretValue {
    if (!(bytes instanceof Uint8Array))
      throw new SecretsError('GT_SECRETS_INVALID', 'a bytes secret must be a Uint8Array');
    return new SecretValue(new Uint8Array(bytes), 'bytes');
  }

  /**
   * Stored bytes in a format, checked: `text` must be UTF-8 and `json` must parse. The error never quotes the
   * bytes (`what` names the secret in it).
   */
  static fromBytes(bytes: Uint8Array, format: SecretFormat, what = 'the secret'): SecretValue {
    if (!isSecretFormat(format)) {
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        `unknown secret format ${JSON.stringify(format)} (text, json or bytes)`,
      );
    }
    const copy = new Uint8Array(bytes);
    if (format !== 'bytes') {
      let text: string;
      try {
        text = decoder.decode(copy);
      } catch {
        throw new SecretsError('GT_SECRETS_INVALID', `${what} is declared ${format} but is not valid UTF-8`);
      }
      if (format === 'json') {
        try {
          JSON.parse(text);
        } catch (e) {
          const at = jsonErrorPosition(e);
          throw new SecretsError(
            'GT_SECRETS_INVALID',
            `${what} is declared json but is not valid JSON${at ? ` (${at})` : ''}; store it as text, or fix the value`,
          );
        }
      }
    }
    return new SecretValue(copy, format);
  }

  /**
   * A value given as a string in a format: `text` as is, `json` must parse (it is kept as given), `bytes` is
   * base64. Used for CLI arguments and seeds. Errors never quote the input.
   */
  static parse(input: string, format: SecretFormat, what = 'the secret'): SecretValue {
    if (format === 'bytes') {
      const compact = input.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
        throw new SecretsError('GT_SECRETS_INVALID', `${what} is declared bytes but is not base64`);
      }
      return new SecretValue(new Uint8Array(Buffer.from(compact, 'base64')), 'bytes');
    }
    return SecretValue.fromBytes(encoder.encode(input), format, what);
  }

  /** Number of bytes. */
  get size(): number {
    return this.#bytes.length;
  }

  /** A copy of the bytes. */
  reveal(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }

  /** The bytes as UTF-8 text (any format; throws `GT_SECRETS_INVALID` when they are not UTF-8). */
  revealText(): string {
    try {
      return decoder.decode(this.#bytes);
    } catch {
      throw new SecretsError('GT_SECRETS_INVALID', `the secret (${this.format}) is not valid UTF-8 text`);
    }
  }

  /** The parsed JSON (throws `GT_SECRETS_INVALID`, without quoting the value, when it is not JSON). */
  revealJson<T = unknown>(): T {
    const text = this.revealText();
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      const at = jsonErrorPosition(e);
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        `the secret (${this.format}) is not valid JSON${at ? ` (${at})` : ''}`,
      );
    }
  }

  /** The bytes as base64. */
  revealBase64(): string {
    return Buffer.from(this.#bytes).toString('base64');
  }

  /** Constant-time comparison of the bytes (and the format). */
  equals(other: SecretValue): boolean {
    if (!(other instanceof SecretValue) || other.format !== this.format) return false;
    const a = this.#bytes;
    const b = other.#bytes;
    return a.length === b.length && timingSafeEqual(a, b);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectSymbol](): string {
    return `SecretValue(${this.format}, ${this.#bytes.length} bytes) ${REDACTED}`;
  }
}

/** What providers accept as a value to store. */
export type SecretInput = SecretValue | Uint8Array | string;

/**
 * A {@link SecretValue} from a put argument: a `SecretValue` keeps its format unless `format` overrides it; a
 * string is `text` by default (or checked against `format`, `bytes` meaning its UTF-8 bytes); `Uint8Array` is
 * `bytes` by default.
 */
export function toSecretValue(input: SecretInput, format?: SecretFormat, what?: string): SecretValue {
  if (input instanceof SecretValue) {
    return format === undefined || format === input.format
      ? input
      : SecretValue.fromBytes(input.reveal(), format, what);
  }
  if (typeof input === 'string') return SecretValue.fromBytes(encoder.encode(input), format ?? 'text', what);
  if (input instanceof Uint8Array) return SecretValue.fromBytes(input, format ?? 'bytes', what);
  throw new SecretsError(
    'GT_SECRETS_INVALID',
    'a secret value must be a SecretValue, a Uint8Array or a string',
  );
}
