import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  Scalar,
  type YAMLError,
  type Node as YamlNode,
} from 'yaml';
import { FlowError, type SourceLocation } from './errors.js';

/**
 * A parsed YAML flow file that still knows where everything came from: every value can be traced back
 * from its RFC 6901 JSON pointer to a 1-based line and column. Internal to the loader.
 */

/** Escapes one JSON pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Builds a JSON pointer from its segments: `['nodes', 'ask', 'routing', 0]` → `/nodes/ask/routing/0`. */
export function jsonPointer(...segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += `/${escapePointerSegment(String(s))}`;
  return out;
}

/** Splits a JSON pointer into its unescaped segments. */
export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

interface Found {
  /** The key node of the last segment, when the last step went through a mapping. */
  key?: YamlNode;
  /** The value node; `undefined` when the pointer does not exist in the document. */
  value?: YamlNode | null;
  /** The deepest node that exists on the way (the value itself when found). */
  nearest: YamlNode | null;
  /** The key node of `nearest`, when `nearest` is a mapping value. */
  nearestKey?: YamlNode;
}

/** The YAML 1.2 key as the JSON data sees it (`toJS` stringifies scalar keys). */
function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  if (typeof key === 'string') return key;
  return undefined;
}

const MAX_ALIASES = 1000;

export class YamlSource {
  private constructor(
    readonly text: string,
    readonly file: string | undefined,
    private readonly lines: LineCounter,
    private readonly root: YamlNode | null,
    private readonly resolveAlias: (node: YamlNode) => YamlNode | null,
    /** The document as plain JSON-like data. */
    readonly data: unknown,
  ) {}

  /**
   * Parses `text`. A syntax error throws `GT_FLOW_YAML`, a mapping with the same key twice throws
   * `GT_FLOW_DUPLICATE_KEY` at the second occurrence; both carry line, column and pointer.
   */
  static parse(text: string, file?: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, {
      lineCounter: lines,
      uniqueKeys: false,
      prettyErrors: false,
      keepSourceTokens: false,
    });
    const root = (doc.contents as YamlNode | null) ?? null;
    const resolveAlias = (node: YamlNode): YamlNode | null => {
      if (!isAlias(node)) return node;
      return (node.resolve(doc) as YamlNode | undefined) ?? null;
    };
    const provisional = new YamlSource(text, file, lines, root, resolveAlias, undefined);
    const syntax = doc.errors[0];
    if (syntax) throw provisional.yamlError(syntax);
    provisional.checkDuplicateKeys();
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      // e.g. an alias bomb or an alias to an anchor that comes later.
      throw new FlowError(
        'GT_FLOW_YAML',
        `the YAML cannot be converted to data: ${(err as Error).message}; remove the offending anchors/aliases`,
        provisional.locationAt(0, ''),
        { cause: err },
      );
    }
    return new YamlSource(text, file, lines, root, resolveAlias, data);
  }

  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; column: number } {
    const p = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: p.line, column: p.col };
  }

  locationAt(offset: number, pointer: string): SourceLocation {
    const loc: SourceLocation = { ...this.position(offset), pointer };
    if (this.file !== undefined) loc.file = this.file;
    return loc;
  }

  /** Looks `pointer` up in the YAML tree. */
  find(pointer: string): Found {
    let node: YamlNode | null = this.root;
    let key: YamlNode | undefined;
    const segments = splitPointer(pointer);
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const current: YamlNode | null = node ? this.resolveAlias(node) : null;
      let found = false;
      let nextValue: YamlNode | null = null;
      let nextKey: YamlNode | undefined;
      if (isMap(current)) {
        for (const pair of current.items) {
          if (keyString(pair.key) === seg) {
            found = true;
            nextKey = (pair.key as YamlNode | null) ?? undefined;
            nextValue = (pair.value as YamlNode | null) ?? null;
            break;
          }
        }
      } else if (isSeq(current)) {
        const item = /^\d+$/.test(seg) ? current.items[Number(seg)] : undefined;
        if (item !== undefined) {
          found = true;
          nextValue = isPair(item)
            ? ((item.value as YamlNode | null) ?? null)
            : ((item as YamlNode | null) ?? null);
        }
      }
      if (!found) return { nearest: current, nearestKey: key };
      if (i === segments.length - 1) {
        return {
          key: nextKey,
          value: nextValue,
          nearest: nextValue ?? current,
          nearestKey: nextValue ? nextKey : key,
        };
      }
      if (nextValue === null) return { nearest: current, nearestKey: key };
      node = nextValue;
      key = nextKey;
    }
    return { value: node, nearest: node };
  }

  /** Location of the value at `pointer` (falls back to its key, then to the nearest existing parent). */
  valueLocation(pointer: string): SourceLocation {
    const f = this.find(pointer);
    if (f.value) return this.locationAt(this.startOf(f.value), pointer);
    if (f.key) return this.locationAt(this.startOf(f.key), pointer);
    return this.locationAt(this.startOf(f.nearest), pointer);
  }

  /** Location of the key of the member at `pointer` (for sequence items and the root: the value). */
  keyLocation(pointer: string): SourceLocation {
    const f = this.find(pointer);
    if (f.key) return this.locationAt(this.startOf(f.key), pointer);
    if (f.value) return this.locationAt(this.startOf(f.value), pointer);
    return this.locationAt(this.startOf(f.nearest), pointer);
  }

  /** Whether `pointer` names a member that exists in the document. */
  has(pointer: string): boolean {
    const f = this.find(pointer);
    return f.value !== undefined || f.key !== undefined;
  }

  /** The scalar node at `pointer`, with its raw source text (for mapping offsets inside strings). */
  scalarAt(pointer: string): { node: Scalar; raw: string; start: number } | undefined {
    const f = this.find(pointer);
    const v = f.value ? this.resolveAlias(f.value) : null;
    if (!v || !isScalar(v) || !v.range) return undefined;
    return { node: v, raw: this.text.slice(v.range[0], v.range[1]), start: v.range[0] };
  }

  /** Keys of the mapping at `pointer`, in document order (JSON objects reorder integer-like keys). */
  mapKeys(pointer: string): string[] | undefined {
    const f = this.find(pointer);
    const v = f.value === undefined ? (pointer === '' ? this.root : undefined) : f.value;
    const node = v ? this.resolveAlias(v) : null;
    if (!isMap(node)) return undefined;
    const keys: string[] = [];
    for (const pair of node.items) {
      const k = keyString(pair.key);
      if (k !== undefined) keys.push(k);
    }
    return keys;
  }

  private startOf(node: YamlNode | null | undefined): number {
    return node?.range?.[0] ?? 0;
  }

  /** The pointer of the deepest node whose source range contains `offset` (best effort, for YAML errors). */
  pointerAt(offset: number): string {
    const segments: (string | number)[] = [];
    let node: YamlNode | null = this.root;
    for (let depth = 0; depth < 256 && node; depth++) {
      let next: YamlNode | null = null;
      if (isMap(node)) {
        for (const pair of node.items) {
          const k = keyString(pair.key);
          const start = (pair.key as YamlNode | null)?.range?.[0];
          const v = pair.value as YamlNode | null;
          const end = v?.range?.[2] ?? (pair.key as YamlNode | null)?.range?.[2];
          if (
            k !== undefined &&
            start !== undefined &&
            end !== undefined &&
            offset >= start &&
            offset < end
          ) {
            segments.push(k);
            next = v;
            break;
          }
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          const r = (item as YamlNode | null)?.range;
          if (!next && r && offset >= r[0] && offset < r[2]) {
            segments.push(i);
            next = item as YamlNode;
          }
        });
      }
      node = next;
    }
    return jsonPointer(...segments);
  }

  private yamlError(err: YAMLError): FlowError {
    const offset = err.pos[0];
    const first = err.message.split('\n')[0] ?? err.message;
    const hint =
      err.code === 'MULTIPLE_DOCS'
        ? 'a flow file holds exactly one YAML document: remove the extra `---` separator'
        : 'fix the YAML syntax at this position (check indentation, quotes and brackets)';
    return new FlowError(
      'GT_FLOW_YAML',
      `invalid YAML: ${first} [${err.code}]; ${hint}`,
      this.locationAt(offset, this.pointerAt(offset)),
      { cause: err },
    );
  }

  private checkDuplicateKeys(): void {
    const visit = (node: unknown, pointer: string, depth: number): void => {
      if (depth > 512 || node === null || node === undefined) return;
      if (isMap(node)) {
        const seen = new Map<string, YamlNode>();
        for (const pair of node.items) {
          const k = keyString(pair.key);
          if (k !== undefined && k !== '<<') {
            const keyNode = pair.key as YamlNode;
            const first = seen.get(k);
            if (first) {
              const firstLine = this.position(this.startOf(first)).line;
              const where = pointer === '' ? 'at the top level' : `in ${pointer}`;
              throw new FlowError(
                'GT_FLOW_DUPLICATE_KEY',
                `key "${k}" appears twice ${where} (first at line ${firstLine}); YAML keeps only one of them, so remove or rename one`,
                this.locationAt(this.startOf(keyNode), jsonPointer(...splitPointer(pointer), k)),
              );
            }
            seen.set(k, keyNode);
          }
          visit(pair.value, k === undefined ? pointer : `${pointer}/${escapePointerSegment(k)}`, depth + 1);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          visit(item, `${pointer}/${i}`, depth + 1);
        });
      }
    };
    visit(this.root, '', 0);
  }
}

/**
 * Maps a character offset inside a scalar's *value* to an offset in the source, so that an error found
 * inside a string (e.g. a condition) can point at the exact column in the file. Handles plain, single- and
 * double-quoted scalars (escapes and line folding) and literal block scalars; for anything else it returns
 * the start of the scalar.
 */
export function sourceOffsetInScalar(
  scalar: { node: Scalar; raw: string; start: number },
  index: number,
): number {
  const { node, raw, start } = scalar;
  const type = node.type;
  if (type === Scalar.BLOCK_LITERAL || type === Scalar.BLOCK_FOLDED) {
    return blockOffset(raw, start, String(node.value), index, type === Scalar.BLOCK_LITERAL);
  }
  const quote = type === Scalar.QUOTE_DOUBLE ? '"' : type === Scalar.QUOTE_SINGLE ? "'" : '';
  let r = quote ? 1 : 0;
  let v = 0;
  while (v < index && r < raw.length) {
    const ch = raw[r]!;
    if (ch === '\n' || ch === '\r') {
      // Line folding: a line break plus the next line's indentation becomes one space (or a newline per
      // extra empty line); trailing white space before the break is dropped too.
      while (r < raw.length && (raw[r] === '\n' || raw[r] === '\r' || raw[r] === ' ' || raw[r] === '\t')) r++;
      v++;
      continue;
    }
    if (quote === '"' && ch === '\\') {
      const e = raw[r + 1];
      if (e === 'x') r += 4;
      else if (e === 'u') r += 6;
      else if (e === 'U') r += 10;
      else if (e === '\n' || e === '\r') {
        r += 2;
        while (r < raw.length && (raw[r] === ' ' || raw[r] === '\t')) r++;
        continue;
      } else r += 2;
      v++;
      continue;
    }
    if (quote === "'" && ch === "'" && raw[r + 1] === "'") {
      r += 2;
      v++;
      continue;
    }
    r++;
    v++;
  }
  return start + Math.min(r, raw.length);
}

function blockOffset(raw: string, start: number, value: string, index: number, literal: boolean): number {
  const header = raw.indexOf('\n');
  if (header < 0) return start;
  const body = raw.slice(header + 1);
  const bodyLines = body.split('\n');
  const indent = bodyLines.find((l) => l.trim() !== '')?.match(/^ */)?.[0].length ?? 0;
  if (!literal) return start + header + 1 + indent;
  const before = value.slice(0, index).split('\n');
  const lineIdx = before.length - 1;
  const col = before[lineIdx]!.length;
  let offset = start + header + 1;
  for (let i = 0; i < lineIdx && i < bodyLines.length; i++) offset += bodyLines[i]!.length + 1;
  return offset + indent + col;
}
