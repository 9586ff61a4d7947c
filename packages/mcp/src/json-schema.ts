import { describeValue } from '@greentic/types';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { McpError, type McpErrorCode, type McpIssue } from './errors.js';

// Internal helpers: JSON Schema validation with errors that name the field, and JSON/YAML document parsing.

let strictAjv: Ajv | undefined;
let looseAjv: Ajv | undefined;
let looseAjv2020: Ajv2020 | undefined;

/** Compiles one of this package's own schemas (strict mode, all errors). */
export function compileOwnSchema<T>(schema: object): ValidateFunction<T> {
  strictAjv ??= new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  return strictAjv.compile<T>(schema);
}

/**
 * Compiles a schema someone else wrote (a tool's input schema): unknown keywords and formats are tolerated.
 * Draft 2020-12 is used when the schema says so (the MCP default dialect), draft-07 otherwise.
 */
export function compileForeignSchema(schema: object): ValidateFunction {
  const dialect = (schema as { $schema?: unknown }).$schema;
  if (typeof dialect === 'string' && dialect.includes('2020-12')) {
    looseAjv2020 ??= new Ajv2020({ allErrors: true, verbose: true, strict: false, validateFormats: false });
    return looseAjv2020.compile(schema);
  }
  looseAjv ??= new Ajv({ allErrors: true, verbose: true, strict: false, validateFormats: false });
  return looseAjv.compile(schema);
}

/** Turns Ajv errors into issues whose pointer names the offending field. */
export function toIssues(errors: readonly ErrorObject[] | null | undefined): McpIssue[] {
  return (errors ?? []).map((e) => {
    let pointer = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case 'required':
        pointer = `${pointer}/${(e.params as { missingProperty: string }).missingProperty}`;
        message = 'is required';
        break;
      case 'additionalProperties':
        pointer = `${pointer}/${(e.params as { additionalProperty: string }).additionalProperty}`;
        message = 'is not a known field';
        break;
      default:
        message = `${e.message ?? 'is invalid'} (got ${describeValue(e.data)})`;
    }
    return { pointer, message };
  });
}

/** `/tools/0/name is required; /tools/1/timeout_ms must be integer (got "x")` (at most `max` issues). */
export function describeIssues(issues: readonly McpIssue[], max = 3): string {
  const shown = issues.slice(0, max).map((i) => `${i.pointer || '(document)'} ${i.message}`);
  const more = issues.length > max ? `; and ${issues.length - max} more` : '';
  return shown.join('; ') + more;
}

/** Validates `value` and throws an McpError with `code` naming the first bad field. */
export function assertValid<T>(
  validate: ValidateFunction<T>,
  value: unknown,
  code: McpErrorCode,
  what: string,
  file?: string,
): asserts value is T {
  if (validate(value)) return;
  const issues = toIssues(validate.errors);
  throw new McpError(code, `${file ? `${file}: ` : ''}${what} is invalid: ${describeIssues(issues)}`, {
    field: issues[0]?.pointer,
    file,
    issues,
  });
}

/** Parses a JSON or YAML document; format from `format`, else from the file extension, else YAML (JSON ⊂ YAML). */
export function parseDocument(
  text: string,
  code: McpErrorCode,
  what: string,
  opts: { file?: string; format?: 'json' | 'yaml' } = {},
): unknown {
  const format = opts.format ?? (opts.file?.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
  try {
    return format === 'json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new McpError(
      code,
      `${opts.file ? `${opts.file}: ` : ''}${what} is not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      { file: opts.file, field: '', cause: e },
    );
  }
}
