/**
 * Errors of the OCI client (`@greentic/pack` → `oci/`). Every failure of a push, pull or resolve is an
 * {@link OciError} with a stable `GT_PACK_OCI_*` code, a message that says what is wrong and what to do, and the
 * original error kept as `cause`. Messages never contain credentials or tokens.
 *
 * (These codes are meant to join the package catalog in `src/errors.ts`; until then they live here.)
 */
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
  /** The push/pull command was called wrongly (missing argument, unknown option). */
  | 'GT_PACK_OCI_USAGE';

/** Every code, for documentation and exhaustive tests. */
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

export interface OciErrorOptions extends ErrorOptions {
  /** The reference the operation was about (never holds credentials: references cannot carry them). */
  reference?: string;
  /** The HTTP status that caused the error, when there was one. */
  status?: number;
}

export class OciError extends Error {
  /** Stable machine-readable code. */
  readonly code: OciErrorCode;
  /** The reference the operation was about, when there is one. */
  readonly reference: string | undefined;
  /** The HTTP status behind the error, when there is one. */
  readonly status: number | undefined;

  constructor(code: OciErrorCode, message: string, options: OciErrorOptions = {}) {
    const { reference, status, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'OciError';
    this.code = code;
    this.reference = reference;
    this.status = status;
  }
}

/** True when `err` is an {@link OciError}, optionally with the given code. */
export function isOciError(err: unknown, code?: OciErrorCode): err is OciError {
  return err instanceof OciError && (code === undefined || err.code === code);
}
