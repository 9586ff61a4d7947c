/**
 * The one error catalog of @greentic/pack. Every problem a user can meet while validating a pack.yaml,
 * building, signing, verifying or reading a `.gtpack`, or moving one through an OCI registry, carries a stable
 * `code`, a message that says what is wrong and what to do, and — where it comes from a file — the file, line,
 * column and JSON pointer; OCI failures carry the `reference` and the HTTP `status`. Messages never contain
 * credentials or tokens.
 */
export type PackErrorCode =
  // --- sources: pack.yaml and the files it references -------------------------------------------------
  /** A file could not be read or written. */
  | 'GT_PACK_IO'
  /** pack.yaml (or a YAML toolmap) is not valid YAML, has a key twice, or holds several documents. */
  | 'GT_PACK_YAML'
  /** A JSON file (component manifest, lock, toolmap, resolve sidecar) is not valid JSON. */
  | 'GT_PACK_JSON'
  /** A manifest does not match its schema (a missing, unknown or ill-typed field, a bad semver or id, …). */
  | 'GT_PACK_SCHEMA'
  /** pack.yaml is in the legacy `packVersion: 1` format; the message says how to migrate. */
  | 'GT_PACK_LEGACY_MANIFEST'
  /** Two components, flows, assets or dependency aliases share an id (or map to the same archive path). */
  | 'GT_PACK_DUPLICATE_ID'
  /** A referenced file, flow, component or secret requirement does not exist. */
  | 'GT_PACK_MISSING_REFERENCE'
  /** pack.yaml and a file it references disagree (flow id, component id/version/world). */
  | 'GT_PACK_INCONSISTENT'
  /** A flow does not load or has lint errors (the flow's own `GT_FLOW_*` code is in the problem list). */
  | 'GT_PACK_FLOW'
  /** A component manifest is invalid (schema, id, WIT world grammar, artifact path, hash format, secrets). */
  | 'GT_PACK_COMPONENT_MANIFEST'
  /** A component targets a WIT world this host does not run. */
  | 'GT_PACK_UNSUPPORTED_WORLD'
  /** A lock or extension reference is not portable (absolute `file://` path) — a warning. */
  | 'GT_PACK_PORTABILITY'
  // --- the archive -----------------------------------------------------------------------------------
  /** The archive is larger than 64 MiB (file size, or the sum of its entries), or has too many entries. */
  | 'GT_PACK_TOO_LARGE'
  /** One entry is larger than 16 MiB. */
  | 'GT_PACK_ENTRY_TOO_LARGE'
  /** An entry name escapes the archive: `..`, absolute, backslash, drive letter, empty or control characters. */
  | 'GT_PACK_PATH_ESCAPE'
  /** An entry is a symlink, directory, device or other non-regular file. */
  | 'GT_PACK_LINK'
  /** Two entries have the same name. */
  | 'GT_PACK_DUPLICATE_ENTRY'
  /** An entry uses an unsupported compression method, lies about its sizes, or inflates past the ratio cap. */
  | 'GT_PACK_COMPRESSION'
  /** The bytes are not a well-formed ZIP archive of the kind packc writes (structure, encryption, ZIP64). */
  | 'GT_PACK_ARCHIVE'
  /** sbom.cbor is missing, not canonical CBOR, or not a `greentic-sbom-v1` document. */
  | 'GT_PACK_SBOM'
  /** A file's content does not match its SBOM entry (BLAKE3 or size) or its ZIP CRC-32. */
  | 'GT_PACK_HASH_MISMATCH'
  /** The archive holds a file the SBOM does not list. */
  | 'GT_PACK_UNLISTED_FILE'
  /** The SBOM (or the manifest) lists a file the archive does not hold. */
  | 'GT_PACK_MISSING_FILE'
  /** manifest.cbor is not a valid Greentic-TS pack manifest. */
  | 'GT_PACK_MANIFEST'
  // --- signatures --------------------------------------------------------------------------------------
  /** A signature does not verify, is malformed, or signs another digest than the pack's. */
  | 'GT_PACK_SIGNATURE_INVALID'
  /** The pack carries no signature and unsigned packs were not allowed. */
  | 'GT_PACK_UNSIGNED'
  /** The pack is signed, but by no key of the trust store. */
  | 'GT_PACK_UNTRUSTED_KEY'
  /** A key file is not an Ed25519 PKCS#8 private / SPKI public key in PEM. */
  | 'GT_PACK_KEY'
  // --- the CLI -----------------------------------------------------------------------------------------
  /** packc was called wrongly (unknown file kind for lint, output exists, …). */
  | 'GT_PACK_USAGE'
  // --- OCI registries (push, pull, resolve) ------------------------------------------------------------
  | OciErrorCode;

/** The codes of OCI registry operations (`pushPack`, `pullPack`, `resolveRef`, `packc push|pull|resolve`). */
export type OciErrorCode =
  /** The reference is not `oci://host[:port]/repo[:tag|@sha256:<64 hex>]` (or names a digest where a tag is needed). */
  | 'GT_PACK_OCI_REF'
  /** A pull names a tag, not a digest, and `allowTags` was not set; the message shows how to pin. */
  | 'GT_PACK_OCI_TAG_NOT_ALLOWED'
  /** Plain HTTP to a host that is not loopback, without `insecure: true` (also for redirects and token realms). */
  | 'GT_PACK_OCI_INSECURE'
  /** The registry (or its token service) wants credentials, rejected them, or denied access (401/403). */
  | 'GT_PACK_OCI_AUTH'
  /** The repository, tag, manifest or blob does not exist (404). */
  | 'GT_PACK_OCI_NOT_FOUND'
  /** Bytes do not match the digest (or size) they were announced with: tampering or a broken registry. */
  | 'GT_PACK_OCI_DIGEST_MISMATCH'
  /** A pack, component or manifest is larger than the allowed size (64 MiB for a pack layer by default). */
  | 'GT_PACK_OCI_TOO_LARGE'
  /** The manifest is not an OCI (or Docker v2) image manifest we can read: bad JSON, shape, media type, digest. */
  | 'GT_PACK_OCI_MANIFEST'
  /** The manifest has no layer of a pack (or component) media type. */
  | 'GT_PACK_OCI_NO_LAYER'
  /** The registry answered with an unexpected status or broke the distribution protocol (missing Location, …). */
  | 'GT_PACK_OCI_REGISTRY'
  /** The registry could not be reached: connection refused, DNS, TLS or time-out. */
  | 'GT_PACK_OCI_NETWORK'
  /** A local file could not be read or written: the input pack, the `-o` output, the cache. */
  | 'GT_PACK_OCI_IO'
  /** `packc push|pull|resolve` was called wrongly (missing argument, unknown option). */
  | 'GT_PACK_OCI_USAGE';

/** The OCI codes, for documentation and exhaustive tests. */
export const OCI_ERROR_CODES: readonly OciErrorCode[] = [
  'GT_PACK_OCI_REF',
  'GT_PACK_OCI_TAG_NOT_ALLOWED',
  'GT_PACK_OCI_INSECURE',
  'GT_PACK_OCI_AUTH',
  'GT_PACK_OCI_NOT_FOUND',
  'GT_PACK_OCI_DIGEST_MISMATCH',
  'GT_PACK_OCI_TOO_LARGE',
  'GT_PACK_OCI_MANIFEST',
  'GT_PACK_OCI_NO_LAYER',
  'GT_PACK_OCI_REGISTRY',
  'GT_PACK_OCI_NETWORK',
  'GT_PACK_OCI_IO',
  'GT_PACK_OCI_USAGE',
];

/** The error codes, for documentation and exhaustive tests. */
export const PACK_ERROR_CODES: readonly PackErrorCode[] = [
  'GT_PACK_IO',
  'GT_PACK_YAML',
  'GT_PACK_JSON',
  'GT_PACK_SCHEMA',
  'GT_PACK_LEGACY_MANIFEST',
  'GT_PACK_DUPLICATE_ID',
  'GT_PACK_MISSING_REFERENCE',
  'GT_PACK_INCONSISTENT',
  'GT_PACK_FLOW',
  'GT_PACK_COMPONENT_MANIFEST',
  'GT_PACK_UNSUPPORTED_WORLD',
  'GT_PACK_PORTABILITY',
  'GT_PACK_TOO_LARGE',
  'GT_PACK_ENTRY_TOO_LARGE',
  'GT_PACK_PATH_ESCAPE',
  'GT_PACK_LINK',
  'GT_PACK_DUPLICATE_ENTRY',
  'GT_PACK_COMPRESSION',
  'GT_PACK_ARCHIVE',
  'GT_PACK_SBOM',
  'GT_PACK_HASH_MISMATCH',
  'GT_PACK_UNLISTED_FILE',
  'GT_PACK_MISSING_FILE',
  'GT_PACK_MANIFEST',
  'GT_PACK_SIGNATURE_INVALID',
  'GT_PACK_UNSIGNED',
  'GT_PACK_UNTRUSTED_KEY',
  'GT_PACK_KEY',
  'GT_PACK_USAGE',
  ...OCI_ERROR_CODES,
];

export interface SourceLocation {
  /** Path of the file as given (or the entry path inside a pack). */
  file?: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** RFC 6901 JSON pointer of the offending value, e.g. `/components/0/version`. */
  pointer: string;
}

/**
 * One finding while validating or building. `code` is a `GT_PACK_*` code, or the `GT_FLOW_*` code of a flow
 * that does not load (`GT_FLOW_LINT` for a lint error, with `rule`).
 */
export interface PackProblem {
  code: PackErrorCode | `GT_FLOW_${string}`;
  severity: 'error' | 'warning';
  /** What is wrong and what to do, without the location prefix. */
  message: string;
  location?: SourceLocation;
  /** The field concerned, in dotted form (`components[0].version`), when there is one. */
  field?: string;
  /** For flow lint findings: the lint rule. */
  rule?: string;
  /** For the legacy manifest: the suggested current-format pack.yaml. */
  suggestion?: string;
}

export interface PackErrorOptions extends ErrorOptions {
  location?: SourceLocation;
  /** Every problem found (the first is the one the message describes). */
  problems?: PackProblem[];
  /** The archive entry concerned, for archive and SBOM errors. */
  entry?: string;
  /** OCI errors: the reference the operation was about (never holds credentials: references cannot carry them). */
  reference?: string;
  /** OCI errors: the HTTP status that caused the error, when there was one. */
  status?: number;
}

export class PackError extends Error {
  override readonly name = 'PackError';
  readonly code: PackErrorCode;
  readonly location: SourceLocation | undefined;
  readonly problems: PackProblem[];
  readonly entry: string | undefined;
  /** OCI errors: the reference the operation was about, when there is one. */
  readonly reference: string | undefined;
  /** OCI errors: the HTTP status behind the error, when there is one. */
  readonly status: number | undefined;

  constructor(code: PackErrorCode, message: string, options: PackErrorOptions = {}) {
    const { location, problems, entry, reference, status, ...errorOptions } = options;
    super(location ? `${formatLocation(location)} ${message}` : message, errorOptions);
    this.code = code;
    this.location = location;
    this.entry = entry;
    this.reference = reference;
    this.status = status;
    this.problems = problems ?? [{ code, severity: 'error', message, ...(location ? { location } : {}) }];
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.entry !== undefined ? { entry: this.entry } : {}),
      ...(this.reference !== undefined ? { reference: this.reference } : {}),
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.location
        ? {
            file: this.location.file,
            line: this.location.line,
            col: this.location.column,
            json_pointer: this.location.pointer,
          }
        : {}),
      problems: this.problems.map(problemToJSON),
    };
  }
}

/** True when `err` is a {@link PackError}, optionally with the given code. */
export function isPackError(err: unknown, code?: PackErrorCode): err is PackError {
  return err instanceof PackError && (code === undefined || err.code === code);
}

/** True when `err` is a {@link PackError} of an OCI registry operation (`GT_PACK_OCI_*`), optionally with that code. */
export function isOciError(err: unknown, code?: OciErrorCode): err is PackError & { code: OciErrorCode } {
  return (
    err instanceof PackError &&
    err.code.startsWith('GT_PACK_OCI_') &&
    (code === undefined || err.code === code)
  );
}

/** `file:line:col`, as editors and terminals recognise it. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file ?? '<input>'}:${loc.line}:${loc.column}`;
}

/** One line per problem: `file:line:col CODE severity: message`. */
export function formatProblem(p: PackProblem): string {
  const where = p.location ? `${formatLocation(p.location)} ` : '';
  const what = p.rule ? `${p.code} (${p.rule})` : p.code;
  return `${where}${what} ${p.severity}: ${p.message}`;
}

/** The JSON shape of a problem (the same keys as greentic-flow doctor's). */
export function problemToJSON(p: PackProblem): Record<string, unknown> {
  return {
    code: p.code,
    severity: p.severity,
    message: p.message,
    ...(p.rule !== undefined ? { rule: p.rule } : {}),
    ...(p.field !== undefined ? { field: p.field } : {}),
    file: p.location?.file ?? null,
    line: p.location?.line ?? null,
    col: p.location?.column ?? null,
    json_pointer: p.location?.pointer ?? null,
    ...(p.suggestion !== undefined ? { suggestion: p.suggestion } : {}),
  };
}

/**
 * Throws a `PackError` for the first error among `problems` (all of them are kept in `problems`), or does
 * nothing when there is no error. `code` overrides the thrown error's code (e.g. `GT_PACK_FLOW` when the
 * first problem is a `GT_FLOW_*` one).
 */
export function throwIfErrors(problems: PackProblem[], code?: PackErrorCode): void {
  const errors = problems.filter((p) => p.severity === 'error');
  const first = errors[0];
  if (!first) return;
  const thrownCode: PackErrorCode =
    code ?? (first.code.startsWith('GT_FLOW_') ? 'GT_PACK_FLOW' : (first.code as PackErrorCode));
  const more =
    errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  const prefix = first.code !== thrownCode ? `${first.code}: ` : '';
  throw new PackError(thrownCode, `${prefix}${first.message}${more}`, {
    ...(first.location ? { location: first.location } : {}),
    problems,
  });
}
