import { PathRef, PathSyntaxError, scanPath, scanString } from '../path.js';

/** A syntax error at a 0-based offset of the condition source; `index.ts` turns it into a FlowError. */
export class ConditionSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||' | '??' | '!' | '-';

export type Token =
  | { kind: 'literal'; value: string | number | boolean | null; start: number; end: number }
  | { kind: 'path'; ref: PathRef; start: number; end: number }
  | { kind: 'op'; op: Operator; start: number; end: number }
  | { kind: '(' | ')' | 'eof'; start: number; end: number };

const TWO_CHAR: ReadonlySet<string> = new Set(['==', '!=', '<=', '>=', '&&', '||', '??']);
const ONE_CHAR: ReadonlySet<string> = new Set(['<', '>', '!', '-']);
const HINTS: Readonly<Record<string, string>> = {
  '=': 'use "==" to compare',
  '&': 'use "&&"',
  '|': 'use "||"',
  '?': 'use "??" for a default',
};

const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Split `source[from, to)` into tokens. Offsets are into the whole `source`. */
export function tokenize(source: string, from: number, to: number): Token[] {
  const tokens: Token[] = [];
  let i = from;
  // Scanners see only the expression (so a `}}` after it is not part of it) but report offsets into `source`.
  const text = to === source.length ? source : source.slice(0, to);
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === 40 /* ( */ || c === 41 /* ) */) {
      tokens.push({ kind: c === 40 ? '(' : ')', start, end: i + 1 });
      i++;
      continue;
    }
    if (c === 34 || c === 39) {
      const s = guard(() => scanString(text, i));
      tokens.push({ kind: 'literal', value: s.value, start, end: s.end });
      i = s.end;
      continue;
    }
    if (c >= 48 && c <= 57) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text)!;
      i += m[0].length;
      tokens.push({ kind: 'literal', value: Number(m[0]), start, end: i });
      continue;
    }
    if (isNameStart(c) || c === 91 /* [ */) {
      const p = guard(() => scanPath(text, i));
      const word = text.slice(start, p.end);
      if (p.segments.length === 1 && (word === 'true' || word === 'false' || word === 'null')) {
        tokens.push({ kind: 'literal', value: word === 'null' ? null : word === 'true', start, end: p.end });
      } else {
        tokens.push({ kind: 'path', ref: new PathRef(word, p.segments), start, end: p.end });
      }
      i = p.end;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR.has(two)) {
      tokens.push({ kind: 'op', op: two as Operator, start, end: i + 2 });
      i += 2;
      continue;
    }
    const one = text[i]!;
    if (ONE_CHAR.has(one)) {
      tokens.push({ kind: 'op', op: one as Operator, start, end: i + 1 });
      i++;
      continue;
    }
    const hint = HINTS[one];
    throw new ConditionSyntaxError(
      `unexpected character ${JSON.stringify(one)} at column ${i + 1}${hint ? `; ${hint}` : ''}`,
      i,
    );
  }
  tokens.push({ kind: 'eof', start: to, end: to });
  return tokens;
}

function guard<T>(scan: () => T): T {
  try {
    return scan();
  } catch (err) {
    if (err instanceof PathSyntaxError) throw new ConditionSyntaxError(err.message, err.offset);
    throw err;
  }
}
