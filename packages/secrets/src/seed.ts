import { parseDocument, stringify as toYaml } from 'yaml';
import { isSecretsError, jsonErrorPosition, SecretsError } from './errors.js';
import type { SecretsProvider } from './provider.js';
import type { PackSecrets } from './requirements.js';
import { formatSecretUri, parseSecretUri, type SecretScope, secretUri } from './uri.js';
import { isSecretFormat, type SecretFormat, SecretValue } from './value.js';

/** A seed value (upstream `SeedValue`, tagged by `type`). */
export type SeedValue =
  | { type: 'text'; text: string }
  | { type: 'json'; json: unknown }
  | { type: 'bytes_b64'; bytes_b64: string };

/** One secret to write (upstream `SeedEntry`). */
export interface SeedEntry {
  uri: string;
  format: SecretFormat;
  description?: string;
  value: SeedValue;
}

/** A seed document (upstream `SeedDoc`, docs/seed-format.md): `{entries: [...]}`, as YAML or JSON. */
export interface SeedDoc {
  entries: SeedEntry[];
}

function emptyValue(format: SecretFormat): SeedValue {
  if (format === 'json') return { type: 'json', json: {} };
  if (format === 'bytes') return { type: 'bytes_b64', bytes_b64: '' };
  return { type: 'text', text: '' };
}

/**
 * A seed with one entry per requirement, placed in `scope` (team `_` when absent): the value is empty, or the
 * requirement's first example (as upstream's scaffold does). Fill the values, then `applySeed`.
 */
export function scaffoldSeed(secrets: PackSecrets, scope: SecretScope): SeedDoc {
  return {
    entries: secrets.requirements.map((r) => {
      const uri = formatSecretUri(
        secretUri({
          env: scope.env,
          tenant: scope.tenant,
          team: scope.team,
          category: r.category,
          name: r.name,
        }),
      );
      let value = emptyValue(r.format);
      const example = r.examples?.[0];
      if (example !== undefined) {
        if (r.format === 'text') value = { type: 'text', text: example };
        else if (r.format === 'bytes')
          value = { type: 'bytes_b64', bytes_b64: Buffer.from(example, 'utf8').toString('base64') };
        else {
          try {
            value = { type: 'json', json: JSON.parse(example) };
          } catch {
            value = { type: 'json', json: example };
          }
        }
      }
      const entry: SeedEntry = { uri, format: r.format, value };
      if (r.description !== undefined) entry.description = r.description;
      return entry;
    }),
  };
}

function bad(pointer: string, message: string): never {
  throw new SecretsError('GT_SECRETS_INVALID', `seed ${pointer}: ${message}`);
}

/** Checks a parsed seed document. Messages name JSON pointers and never quote a value. */
export function validateSeed(doc: unknown): SeedDoc {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as SeedDoc).entries)) {
    bad('(root)', 'must be an object {"entries": [...]}');
  }
  (doc as SeedDoc).entries.forEach((e, i) => {
    const at = `/entries/${i}`;
    if (typeof e !== 'object' || e === null) bad(at, 'must be an object {uri, format, value}');
    if (typeof e.uri !== 'string') bad(`${at}/uri`, 'must be a secrets:// URI string');
    try {
      parseSecretUri(e.uri);
    } catch (err) {
      bad(`${at}/uri`, (err as Error).message);
    }
    if (!isSecretFormat(e.format))
      bad(`${at}/format`, `must be "text", "json" or "bytes" (got ${JSON.stringify(e.format)})`);
    if (e.description !== undefined && typeof e.description !== 'string')
      bad(`${at}/description`, 'must be a string');
    const v = e.value as Record<string, unknown> | undefined;
    if (typeof v !== 'object' || v === null) bad(`${at}/value`, 'must be an object {type, ...}');
    const want = e.format === 'text' ? 'text' : e.format === 'json' ? 'json' : 'bytes_b64';
    if (v.type !== want)
      bad(`${at}/value/type`, `must be "${want}" for format ${e.format} (got ${JSON.stringify(v.type)})`);
    if (want === 'text' && typeof v.text !== 'string') bad(`${at}/value/text`, 'must be a string');
    if (want === 'bytes_b64' && typeof v.bytes_b64 !== 'string')
      bad(`${at}/value/bytes_b64`, 'must be a base64 string');
    if (want === 'json' && !('json' in v)) bad(`${at}/value/json`, 'is missing');
  });
  return doc as SeedDoc;
}

/**
 * Parses a seed file (JSON, or YAML as upstream writes). A syntax error gives only its position: a seed holds
 * secret values and parser messages quote the text around the error.
 */
export function parseSeed(text: string, where = 'the seed'): SeedDoc {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return validateSeed(JSON.parse(text));
    } catch (e) {
      if (isSecretsError(e)) throw e;
      const at = jsonErrorPosition(e);
      throw new SecretsError('GT_SECRETS_INVALID', `${where} is not valid JSON${at ? ` (${at})` : ''}`);
    }
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const pos = doc.errors[0]!.linePos?.[0];
    throw new SecretsError(
      'GT_SECRETS_INVALID',
      `${where} is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`,
    );
  }
  return validateSeed(doc.toJS());
}

/** A seed as text: JSON (default) or YAML. */
export function formatSeed(doc: SeedDoc, as: 'json' | 'yaml' = 'json'): string {
  return as === 'yaml' ? toYaml(doc) : `${JSON.stringify(doc, null, 2)}\n`;
}

/** An entry's value, or `undefined` for an empty placeholder (empty text or base64, `{}`/`null` JSON). */
export function seedEntryValue(entry: SeedEntry, where = entry.uri): SecretValue | undefined {
  const v = entry.value;
  if (v.type === 'text') return v.text === '' ? undefined : SecretValue.text(v.text);
  if (v.type === 'bytes_b64')
    return v.bytes_b64 === '' ? undefined : SecretValue.parse(v.bytes_b64, 'bytes', where);
  const j = v.json;
  if (
    j === null ||
    j === undefined ||
    (typeof j === 'object' && !Array.isArray(j) && Object.keys(j).length === 0)
  )
    return undefined;
  return SecretValue.json(j);
}

export interface ApplyReport {
  applied: { uri: string; version: string }[];
  /** Placeholders left empty, and entries not in the pack's requirements when `requirements` is given. */
  skipped: { uri: string; reason: string }[];
  failed: { uri: string; code: string; error: string }[];
}

export interface ApplySeedOptions {
  /** When given, entries whose `category/name` no requirement names are skipped. */
  requirements?: PackSecrets;
  /** Store empty placeholders as empty values (default false: skip them). */
  storeEmpty?: boolean;
}

/** Writes every filled entry as a new version. Failures are reported per entry, never with the value. */
export async function applySeed(
  provider: SecretsProvider,
  doc: SeedDoc,
  options: ApplySeedOptions = {},
): Promise<ApplyReport> {
  const report: ApplyReport = { applied: [], skipped: [], failed: [] };
  const wanted = options.requirements
    ? new Set(options.requirements.requirements.map((r) => `${r.category}/${r.name}`))
    : undefined;
  for (const entry of validateSeed(doc).entries) {
    const uri = entry.uri.trim();
    try {
      const u = parseSecretUri(uri);
      if (wanted && !wanted.has(`${u.category}/${u.name}`)) {
        report.skipped.push({ uri, reason: 'not a requirement of the pack' });
        continue;
      }
      let value = seedEntryValue(entry);
      if (value === undefined) {
        if (!options.storeEmpty) {
          report.skipped.push({ uri, reason: 'no value (empty placeholder)' });
          continue;
        }
        const v = entry.value;
        value =
          v.type === 'json'
            ? SecretValue.json(v.json ?? null)
            : v.type === 'text'
              ? SecretValue.text('')
              : SecretValue.bytes(new Uint8Array());
      }
      const r = await provider.put(u, value, { format: entry.format });
      report.applied.push({ uri: r.uri, version: r.version });
    } catch (e) {
      const code = isSecretsError(e) ? e.code : 'GT_SECRETS_BACKEND';
      report.failed.push({
        uri,
        code,
        error: isSecretsError(e) ? e.message : 'the provider failed to store the value',
      });
    }
  }
  return report;
}
