import { scanString } from '../path.js';

/**
 * Two things Handlebars.js cannot parse but Greentic templates need:
 * - upstream writes index and quoted-key paths the way JavaScript does (`{{a.b[0]}}`, `{{a["weird key"]}}`):
 *   inside mustaches they become Handlebars' own literal segments (`{{a.b.[0]}}`, `{{a.[weird key]}}`);
 * - a `}` right after a mustache (`{"a": {{json x}}}`, common in JSON templates) lexes as `}}}`: it becomes
 *   {@link BRACE}, which the compiler turns back into `}` in the text.
 * The rewrite is only tried when the template does not parse as written, so it never changes the meaning of a
 * template Handlebars accepts.
 */
/** Stands for a literal `}` that follows a mustache (a private-use character, same length as `}`). */
export const BRACE = '\uE000';

export interface Rewritten {
  text: string;
  /** Map an offset in `text` back to the offset in the original template. */
  toOriginal(offset: number): number;
}

// Handlebars' ID character class (its lexer's `ID` rule), plus `]` which ends a literal segment.
const ID_CHAR = /[^\s!"#%-,./;->@[-^`{-~]/;

function continuesPath(prev: string | undefined): boolean {
  return prev !== undefined && (prev === ']' || ID_CHAR.test(prev));
}

export function rewriteCompat(text: string): Rewritten | undefined {
  // Chunks of the output: [start in output, start in original, copied verbatim?]
  const chunks: Array<[number, number, boolean]> = [];
  let out = '';
  let last = 0; // first original offset not yet copied
  let changed = false;

  const copyUpTo = (end: number): void => {
    if (end > last) {
      chunks.push([out.length, last, true]);
      out += text.slice(last, end);
    }
    last = end;
  };
  const replace = (start: number, end: number, replacement: string): void => {
    copyUpTo(start);
    chunks.push([out.length, start, false]);
    out += replacement;
    last = end;
    changed = true;
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const open = text.indexOf('{{', i);
    if (open < 0) break;
    if (open > 0 && text[open - 1] === '\\') {
      i = open + 2;
      continue;
    }
    let k = open + 2;
    while (text[k] === '{') k++;
    const braces = k - open;
    if (text[k] === '!') {
      const close = text.startsWith('!--', k) ? text.indexOf('--}}', k) : text.indexOf('}}', k);
      i = close < 0 ? n : close + 2;
      continue;
    }
    let p = k;
    while (p < n) {
      const c = text[p]!;
      if (c === '}' && text[p + 1] === '}') break;
      if (c === '"' || c === "'") {
        // A Handlebars string parameter: skip it (\" escapes the quote).
        let q = p + 1;
        while (q < n && text[q] !== c) q += text[q] === '\\' ? 2 : 1;
        p = q + 1;
        continue;
      }
      if (c === '[') {
        const dot = continuesPath(text[p - 1]) ? '.' : '';
        const quote = text[p + 1];
        if (quote === '"' || quote === "'") {
          try {
            const s = scanString(text, p + 1);
            if (text[s.end] === ']') {
              replace(p, s.end + 1, `${dot}[${s.value.replace(/\]/g, '\\]')}]`);
              p = s.end + 1;
              continue;
            }
          } catch {
            // Not a well-formed quoted key: leave it for Handlebars to report.
          }
        } else if (dot) {
          replace(p, p, dot);
        }
        const close = text.indexOf(']', p + 1);
        p = close < 0 ? n : close + 1;
        continue;
      }
      p++;
    }
    // `{{x}}}`: the third brace is text. (`{{{x}}}` closes with three braces; raw blocks are left alone.)
    const closeLength = braces === 3 ? 3 : 2;
    if (braces <= 3 && text[p + closeLength] === '}' && !text.includes(BRACE)) {
      replace(p + closeLength, p + closeLength + 1, BRACE);
    }
    i = p + closeLength;
  }
  if (!changed) return undefined;
  copyUpTo(n);
  return {
    text: out,
    toOriginal(offset: number): number {
      let lo = 0;
      let hi = chunks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (chunks[mid]![0] <= offset) lo = mid;
        else hi = mid - 1;
      }
      const chunk = chunks[lo];
      if (!chunk) return offset;
      return chunk[2] ? chunk[1] + (offset - chunk[0]) : chunk[1];
    },
  };
}

/** Offsets of line starts, to convert between offsets and Handlebars' (1-based line, 0-based column). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** 0-based offset → 1-based line and column. */
export function lineColumn(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
