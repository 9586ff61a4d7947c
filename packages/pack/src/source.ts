import type { ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { PackErrorCode, PackProblem, SourceLocation } from './errors.js';

/**
 * A manifest file (YAML or JSON) parsed into data that still knows where every value came from, so that
 * schema and semantic problems can name `file:line:col` and the field. Internal.
 */
export class SourceDoc {
  private constructor(
    readonly file: string,
    readonly data: unknown,
    private readonly text: string,
    private readonly lines: LineCounter,
    private readonly root: Node | null,
  ) {}

  /**
   * Parses YAML (or JSON, which is read with `JSON.parse` for its strict syntax and with the YAML parser for
   * positions). Returns the syntax problem instead of throwing.
   */
  static parse(text: string, file: string, syntax: 'yaml' | 'json'): SourceDoc | PackProblem {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const root = (doc.contents as Node | null) ?? null;
    const locate = (offset: number): SourceLocation => {
      const p = lines.linePos(Math.max(0, Math.min(offset, text.length)));
      return { file, line: p.line, column: p.col, pointer: '' };
    };
    if (syntax === 'json') {
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        const m = /position (\d+)/.exec((err as Error).message);
        return {
          code: 'GT_PACK_JSON',
          severity: 'error',
          message: `invalid JSON: ${(err as Error).message}; fix the syntax`,
          location: locate(m ? Number(m[1]) : 0),
        };
      }
      const dup = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
      if (dup) {
        return {
          code: 'GT_PACK_JSON',
          severity: 'error',
          message: 'a key appears twice in one object; JSON readers keep only one of them, so remove one',
          location: locate(dup.pos[0]),
        };
      }
      return new SourceDoc(file, data, text, lines, doc.errors.length === 0 ? root : null);
    }
    const first = doc.errors[0];
    if (first) {
      const hint =
        first.code === 'DUPLICATE_KEY'
          ? 'a key appears twice in one mapping; YAML keeps only one of them, so remove or rename one'
          : first.code === 'MULTIPLE_DOCS'
            ? 'the file holds more than one YAML document; remove the extra `---`'
            : 'fix the YAML syntax here (indentation, quotes, brackets)';
      return {
        code: 'GT_PACK_YAML',
        severity: 'error',
        message: `invalid YAML: ${first.message.split('\n')[0]} [${first.code}]; ${hint}`,
        location: locate(first.pos[0]),
      };
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return {
        code: 'GT_PACK_YAML',
        severity: 'error',
        message: `the YAML cannot be converted to data: ${(err as Error).message}; remove the offending anchors/aliases`,
        location: locate(0),
      };
    }
    return new SourceDoc(file, data, text, lines, root);
  }

  /** Location of the value at `pointer`, or of its nearest existing parent. */
  locate(pointer: string): SourceLocation {
    let node: Node | null = this.root;
    let best: Node | null = node;
    let keyNode: Node | null = null;
    for (const seg of splitPointer(pointer)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
        if (!pair) break;
        keyNode = pair.key as Node;
        node = (pair.value as Node | null) ?? null;
      } else if (isSeq(node)) {
        const item = /^\d+$/.test(seg) ? node.items[Number(seg)] : undefined;
        if (item === undefined) break;
        keyNode = null;
        node = isPair(item) ? ((item.value as Node | null) ?? null) : ((item as Node | null) ?? null);
      } else {
        break;
      }
      best = node ?? keyNode ?? best;
    }
    const offset = best?.range?.[0] ?? 0;
    const p = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { file: this.file, line: p.line, column: p.col, pointer };
  }

  /** Location of the key of the member at `pointer` (for "unknown field" problems). */
  locateKey(pointer: string): SourceLocation {
    const segs = splitPointer(pointer);
    const last = segs.pop();
    const parent = joinPointer(segs);
    let node: Node | null = this.root;
    for (const seg of segs) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
        node = (pair?.value as Node | null) ?? null;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        node = isPair(item) ? ((item.value as Node | null) ?? null) : ((item as Node | null) ?? null);
      } else {
        node = null;
      }
    }
    if (isMap(node) && last !== undefined) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
      const off = (pair?.key as Node | undefined)?.range?.[0];
      if (off !== undefined) {
        const p = this.lines.linePos(off);
        return { file: this.file, line: p.line, column: p.col, pointer };
      }
    }
    return { ...this.locate(parent), pointer };
  }

  /** A problem located at `pointer`. */
  problem(
    code: PackErrorCode,
    pointer: string,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ): PackProblem {
    const field = fieldName(pointer);
    return {
      code,
      severity,
      message: field ? `${field}: ${message}` : message,
      location: this.locate(pointer),
      ...(field ? { field } : {}),
    };
  }

  /** Turns ajv errors into located problems, one per field (the most useful error of each). */
  schemaProblems(errors: readonly ErrorObject[], code: PackErrorCode = 'GT_PACK_SCHEMA'): PackProblem[] {
    const out: PackProblem[] = [];
    const seen = new Set<string>();
    for (const e of errors) {
      // `if`/`then`, `oneOf` and `anyOf` wrappers repeat what their branches already said.
      if (e.keyword === 'if' || e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'not')
        continue;
      let pointer = e.instancePath;
      let message = e.message ?? 'is invalid';
      let atKey = false;
      if (e.keyword === 'required') {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        pointer = `${pointer}/${escapeSegment(missing)}`;
        message = 'is required but missing';
      } else if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        pointer = `${pointer}/${escapeSegment(extra)}`;
        message = 'is not a known field; remove it (or prefix it with "x-" where extensions are allowed)';
        atKey = true;
      } else if (e.keyword === 'enum') {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
        message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(valueAt(this.data, pointer))})`;
      } else if (e.keyword === 'const') {
        message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
      } else if (e.keyword === 'minLength' && (e.params as { limit: number }).limit === 1) {
        message = 'must not be empty';
      } else if (e.keyword === 'pattern') {
        const pattern = (e.params as { pattern: string }).pattern;
        const hint =
          (e.parentSchema as { 'x-hint'?: string } | undefined)?.['x-hint'] ??
          PATTERN_HINTS.find(([re]) => re.test(pattern))?.[1];
        message = `${hint ?? `must match ${pattern}`} (got ${JSON.stringify(valueAt(this.data, pointer))})`;
      } else if (e.keyword === 'type') {
        message = `must be ${withArticle((e.params as { type: string }).type)} (got ${describe(valueAt(this.data, pointer))})`;
      } else if (e.keyword === 'minItems') {
        message = `must have at least ${(e.params as { limit: number }).limit} item(s)`;
      }
      const key = `${pointer}|${e.keyword === 'required' ? 'required' : 'value'}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const field = fieldName(pointer);
      out.push({
        code,
        severity: 'error',
        message: field ? `${field}: ${message}` : message,
        location: atKey ? this.locateKey(pointer) : this.locate(pointer),
        ...(field ? { field } : {}),
      });
    }
    return out;
  }
}

/** Human hints for patterns of upstream's schemas (which carry no `x-hint`). */
const PATTERN_HINTS: [RegExp, string][] = [
  [/^\^\[0-9\]\+\\\.\[0-9\]\+/, 'must be a semantic version like 1.2.3'],
  [/^\^blake3:/, 'must be blake3:<64 hex digits>'],
  [
    /^\^\[a-z\]\[a-z0-9_\.:-\]\*\$$/,
    'must start with a lowercase letter, then lowercase letters, digits, "_", ".", ":", "-"',
  ],
  [/\(\?!\/\)/, 'must be a relative key of letters, digits, ".", "_", "-", "/" without ".."'],
];

function withArticle(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export function escapeSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function joinPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${escapeSegment(String(s))}`).join('');
}

/** `/components/0/version` → `components[0].version`; keys that are not plain names are quoted: `components["mcp.exec"]`. */
export function fieldName(pointer: string): string {
  let out = '';
  for (const seg of splitPointer(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(seg)) out += `[${JSON.stringify(seg)}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function valueAt(data: unknown, pointer: string): unknown {
  let v: unknown = data;
  for (const seg of splitPointer(pointer)) {
    if (Array.isArray(v)) v = v[Number(seg)];
    else if (v !== null && typeof v === 'object' && Object.hasOwn(v, seg))
      v = (v as Record<string, unknown>)[seg];
    else return undefined;
  }
  return v;
}
