import { readFile } from 'node:fs/promises';
import { McpError } from './errors.js';
import { assertValid, compileOwnSchema, parseDocument } from './json-schema.js';

/**
 * One tool of a tool map (upstream `greentic-mcp` `ToolRef`): the MCP tool `name` is served by calling `entry` on the
 * Wasm `component`.
 */
export interface ToolRef {
  /** MCP tool name: 1–128 characters of `A-Z a-z 0-9 _ - .`. Unique in the map. */
  name: string;
  /** The component that implements the tool (upstream: a path to a `.wasm` file, or a store name). */
  component: string;
  /** The component's export / operation to call (upstream: `tool_invoke`, `tool-invoke`, an op name). */
  entry: string;
  /** Time limit for one attempt, in ms (default {@link TOOLMAP_DEFAULTS}.timeout_ms). */
  timeout_ms?: number;
  /** Extra attempts after a transient failure (default 0: no retry). */
  max_retries?: number;
  /** Base delay before the first retry, in ms; doubled per retry, with jitter (default 200). */
  retry_backoff_ms?: number;
}

/** A tool map document (`toolmap.json` / `toolmap.yaml`). */
export interface ToolMapConfig {
  tools: ToolRef[];
}

/** Upstream defaults for a tool's optional fields (`greentic-mcp/src/types.rs`, `executor.rs`). */
export const TOOLMAP_DEFAULTS = Object.freeze({ timeout_ms: 10_000, max_retries: 0, retry_backoff_ms: 200 });

/** Tool names allowed by the MCP specification (also what the MCP SDK checks). */
export const TOOL_NAME_PATTERN = '^[A-Za-z0-9._-]{1,128}$';

const toolProperties = {
  name: { type: 'string', pattern: TOOL_NAME_PATTERN },
  component: { type: 'string', minLength: 1 },
  entry: { type: 'string', minLength: 1 },
  timeout_ms: { type: 'integer', minimum: 1, maximum: 3_600_000 },
  max_retries: { type: 'integer', minimum: 0, maximum: 10 },
  retry_backoff_ms: { type: 'integer', minimum: 0, maximum: 60_000 },
} as const;

/** JSON Schema of a tool map, as this package enforces it (unknown fields are rejected unless `strict: false`). */
export const TOOLMAP_SCHEMA = Object.freeze({
  $id: 'https://greentic.ai/schemas/mcp/toolmap.json',
  title: 'Greentic MCP tool map',
  type: 'object',
  required: ['tools'],
  additionalProperties: false,
  properties: {
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'component', 'entry'],
        additionalProperties: false,
        properties: toolProperties,
      },
    },
  },
});

const LOOSE_TOOLMAP_SCHEMA = {
  type: 'object',
  required: ['tools'],
  properties: {
    tools: {
      type: 'array',
      items: { type: 'object', required: ['name', 'component', 'entry'], properties: toolProperties },
    },
  },
};

let strictValidator: ReturnType<typeof compileOwnSchema<ToolMapConfig>> | undefined;
let looseValidator: ReturnType<typeof compileOwnSchema<ToolMapConfig>> | undefined;

export interface ToolMapParseOptions {
  /** File name, used in messages and to pick the format (`.json` → JSON, otherwise YAML). */
  file?: string;
  format?: 'json' | 'yaml';
  /**
   * Reject fields the schema does not know (default `true`; upstream silently ignores them, so a typo such as
   * `timeout: 5000` would go unnoticed). With `false` they are dropped.
   */
  strict?: boolean;
}

/**
 * Checks an untrusted value against the tool-map schema and the rules the schema cannot say (unique names).
 * Returns a clean copy (unknown fields dropped when `strict: false`). Throws `GT_MCP_TOOLMAP` with `field` set to the
 * JSON pointer of the first problem (`/tools/1/name`).
 */
export function validateToolMap(
  value: unknown,
  opts: Omit<ToolMapParseOptions, 'format'> = {},
): ToolMapConfig {
  const strict = opts.strict ?? true;
  if (strict) strictValidator ??= compileOwnSchema<ToolMapConfig>(TOOLMAP_SCHEMA);
  else looseValidator ??= compileOwnSchema<ToolMapConfig>(LOOSE_TOOLMAP_SCHEMA);
  const validate = strict ? strictValidator! : looseValidator!;
  assertValid(validate, value, 'GT_MCP_TOOLMAP', 'tool map', opts.file);
  const seen = new Map<string, number>();
  const tools = value.tools.map((t, i): ToolRef => {
    const first = seen.get(t.name);
    if (first !== undefined) {
      throw new McpError(
        'GT_MCP_TOOLMAP',
        `${opts.file ? `${opts.file}: ` : ''}tool map is invalid: /tools/${i}/name "${t.name}" is already used by /tools/${first}; tool names must be unique`,
        {
          field: `/tools/${i}/name`,
          file: opts.file,
          issues: [{ pointer: `/tools/${i}/name`, message: 'is a duplicate' }],
        },
      );
    }
    seen.set(t.name, i);
    const tool: ToolRef = { name: t.name, component: t.component, entry: t.entry };
    if (t.timeout_ms !== undefined) tool.timeout_ms = t.timeout_ms;
    if (t.max_retries !== undefined) tool.max_retries = t.max_retries;
    if (t.retry_backoff_ms !== undefined) tool.retry_backoff_ms = t.retry_backoff_ms;
    return tool;
  });
  return { tools };
}

/** Parses and validates a tool map from JSON or YAML text. */
export function parseToolMap(text: string, opts: ToolMapParseOptions = {}): ToolMap {
  const doc = parseDocument(text, 'GT_MCP_TOOLMAP', 'tool map', opts);
  return new ToolMap(validateToolMap(doc, opts));
}

/** Reads, parses and validates a tool map file (`GT_MCP_IO` when it cannot be read). */
export async function loadToolMap(
  path: string,
  opts: Omit<ToolMapParseOptions, 'file'> = {},
): Promise<ToolMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new McpError('GT_MCP_IO', `cannot read tool map ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  return parseToolMap(text, { ...opts, file: path });
}

/** How a tool is called: per-attempt time limit and retry policy, with upstream defaults filled in. */
export interface ToolCallPolicy {
  timeoutMs: number;
  /** Total attempts: `max_retries + 1`. */
  maxAttempts: number;
  baseDelayMs: number;
}

/** A validated tool map: lookup by name, in file order. */
export class ToolMap implements Iterable<ToolRef> {
  private readonly byName = new Map<string, ToolRef>();

  /** Validates `config` (throws `GT_MCP_TOOLMAP`). */
  constructor(config: ToolMapConfig) {
    for (const tool of validateToolMap(config).tools) this.byName.set(tool.name, tool);
  }

  get size(): number {
    return this.byName.size;
  }

  /** Tool names in file order. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The tool, or `undefined`. */
  find(name: string): ToolRef | undefined {
    const t = this.byName.get(name);
    return t && { ...t };
  }

  /** The tool; throws `GT_MCP_TOOL_NOT_FOUND` naming the tools that exist. */
  get(name: string): ToolRef {
    const t = this.find(name);
    if (!t) {
      throw new McpError(
        'GT_MCP_TOOL_NOT_FOUND',
        `the tool map has no tool "${name}" (it has: ${this.names.join(', ') || 'no tools'})`,
        { field: 'name' },
      );
    }
    return t;
  }

  /** Time limit and retries for one tool, upstream defaults applied. */
  policy(name: string): ToolCallPolicy {
    const t = this.get(name);
    return {
      timeoutMs: t.timeout_ms ?? TOOLMAP_DEFAULTS.timeout_ms,
      maxAttempts: (t.max_retries ?? TOOLMAP_DEFAULTS.max_retries) + 1,
      baseDelayMs: t.retry_backoff_ms ?? TOOLMAP_DEFAULTS.retry_backoff_ms,
    };
  }

  *[Symbol.iterator](): Iterator<ToolRef> {
    for (const t of this.byName.values()) yield { ...t };
  }

  toJSON(): ToolMapConfig {
    return { tools: [...this] };
  }
}
