/**
 * A small OCI distribution client over `fetch` (Node's undici): blobs (HEAD, monolithic POST+PUT upload, verified
 * streaming GET), manifests (PUT, GET, HEAD) and the three ways registries authenticate (basic, a static bearer
 * token, and the token flow behind `WWW-Authenticate: Bearer realm=…`). Internal: the public API is in `pack.ts`.
 */
import { createHash } from 'node:crypto';
import { type OciErrorCode, PackError } from '../errors.js';
import {
  type AuthChallenge,
  basicAuthorization,
  type OciCredentials,
  parseWwwAuthenticate,
  resolveCredentials,
} from './auth.js';
import {
  ACCEPTED_MANIFEST_MEDIA_TYPES,
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
  MAX_MANIFEST_BYTES,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
} from './media-types.js';
import { formatOciReference, isLoopbackHost, isSha256Digest, type OciReference } from './reference.js';

/** What a push or pull reports while it works (the CLI prints these to stderr). */
export type OciProgressEvent =
  | { type: 'blob-exists'; digest: string; size: number }
  | { type: 'blob-uploaded'; digest: string; size: number }
  | { type: 'manifest-pushed'; digest: string; reference: string }
  | { type: 'resolved'; reference: string; digest: string }
  | { type: 'download-start'; digest: string; size: number }
  | { type: 'download-done'; digest: string; size: number }
  | { type: 'cache-hit'; digest: string; path: string }
  | { type: 'cache-invalid'; digest: string; path: string; reason: string };

/** Options every registry operation takes. */
export interface OciClientOptions {
  /** Basic-auth user (also used at the token service). Default: `GREENTIC_OCI_USERNAME`. */
  username?: string;
  /** Basic-auth password. Default: `GREENTIC_OCI_PASSWORD`. */
  password?: string;
  /** A bearer token sent to the registry as is. Default: `GREENTIC_OCI_TOKEN`. */
  token?: string;
  /**
   * Allow plain HTTP to hosts that are not loopback (and use it by default for them). Loopback hosts
   * (`localhost`, 127.0.0.0/8, ::1) use plain HTTP without this.
   */
  insecure?: boolean;
  /** Force the scheme; `http` to a non-loopback host still needs `insecure`. */
  protocol?: 'http' | 'https';
  /** The `fetch` to use (tests count requests with it). Default: global `fetch`. */
  fetch?: typeof fetch;
  /** Environment for credentials and the cache directory. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Time limit per HTTP request, body included, in ms. Default 120 000. */
  timeoutMs?: number;
  /** Progress callback. */
  onProgress?: (event: OciProgressEvent) => void;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  manifest: ImageManifest;
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

const USER_AGENT = 'greentic-ts-pack-oci/0.1';
const MAX_REDIRECTS = 5;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // already consumed or errored: nothing to free
  }
}

/** The `{errors:[{code,message}]}` body of a registry error, as one line (registry text only, no secrets). */
async function registryErrorText(res: Response): Promise<string> {
  try {
    const text = (await res.text()).slice(0, 4096);
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    }
    return text.trim().slice(0, 200);
  } catch {
    return '';
  }
}

function validateDescriptor(value: unknown, where: string, ref: string): Descriptor {
  const bad = (problem: string) =>
    new PackError('GT_PACK_OCI_MANIFEST', `the manifest of ${ref} is invalid: ${where} ${problem}`, {
      reference: ref,
    });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('is not an object');
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw bad('has no mediaType');
  if (typeof d.digest !== 'string' || !isSha256Digest(d.digest)) {
    throw bad(`has digest ${JSON.stringify(d.digest)}, not sha256:<64 hex> (only sha256 is supported)`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw bad('has no valid size');
  let annotations: Record<string, string> | undefined;
  if (d.annotations !== undefined) {
    if (typeof d.annotations !== 'object' || d.annotations === null || Array.isArray(d.annotations)) {
      throw bad('has annotations that are not an object');
    }
    annotations = {};
    for (const [k, v] of Object.entries(d.annotations)) {
      if (typeof v !== 'string') throw bad(`has annotation ${JSON.stringify(k)} that is not a string`);
      annotations[k] = v;
    }
  }
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(annotations ? { annotations } : {}),
    ...(typeof d.artifactType === 'string' ? { artifactType: d.artifactType } : {}),
  };
}

/** Parses and checks an image manifest (OCI v1 or Docker v2 schema 2). */
export function parseImageManifest(bytes: Uint8Array, ref: string, contentType?: string): ImageManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new PackError('GT_PACK_OCI_MANIFEST', `the manifest of ${ref} is not valid JSON`, {
      reference: ref,
      cause: err,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PackError('GT_PACK_OCI_MANIFEST', `the manifest of ${ref} is not a JSON object`, {
      reference: ref,
    });
  }
  const m = json as Record<string, unknown>;
  const mediaType = typeof m.mediaType === 'string' ? m.mediaType : contentType;
  if (
    mediaType === OCI_INDEX_MEDIA_TYPE ||
    mediaType === DOCKER_MANIFEST_LIST_MEDIA_TYPE ||
    'manifests' in m
  ) {
    throw new PackError(
      'GT_PACK_OCI_MANIFEST',
      `${ref} is an image index (a list of manifests), not a pack or component manifest; pull one of its ` +
        'manifests by digest instead',
      { reference: ref },
    );
  }
  if (mediaType !== undefined && !ACCEPTED_MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw new PackError(
      'GT_PACK_OCI_MANIFEST',
      `the manifest of ${ref} has media type ${JSON.stringify(mediaType)}; expected ${OCI_MANIFEST_MEDIA_TYPE}`,
      { reference: ref },
    );
  }
  if (m.schemaVersion !== 2) {
    throw new PackError('GT_PACK_OCI_MANIFEST', `the manifest of ${ref} does not have schemaVersion 2`, {
      reference: ref,
    });
  }
  if (!Array.isArray(m.layers)) {
    throw new PackError('GT_PACK_OCI_MANIFEST', `the manifest of ${ref} has no layers array`, {
      reference: ref,
    });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: validateDescriptor(m.config, 'config', ref),
    layers: m.layers.map((l, i) => validateDescriptor(l, `layers[${i}]`, ref)),
  };
  if (mediaType !== undefined) manifest.mediaType = mediaType;
  if (typeof m.artifactType === 'string') manifest.artifactType = m.artifactType;
  if (typeof m.annotations === 'object' && m.annotations !== null && !Array.isArray(m.annotations)) {
    manifest.annotations = Object.fromEntries(
      Object.entries(m.annotations).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  }
  return manifest;
}

interface OciRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Scope to ask a token service for, e.g. `repository:x/y:pull,push`. */
  actions: 'pull' | 'pull,push';
}

/** One client per registry+repository and operation; it remembers the authorization it negotiated. */
export class RegistryClient {
  readonly ref: OciReference;
  readonly display: string;
  private readonly base: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly credentials: OciCredentials;
  private readonly insecure: boolean;
  private readonly timeoutMs: number;
  private readonly onProgress: ((e: OciProgressEvent) => void) | undefined;
  private authorization: string | undefined;

  constructor(ref: OciReference, options: OciClientOptions = {}) {
    this.ref = ref;
    this.display = formatOciReference(ref);
    this.insecure = options.insecure === true;
    const loopback = isLoopbackHost(ref.hostname);
    const protocol = options.protocol ?? (loopback || this.insecure ? 'http' : 'https');
    this.base = new URL(`${protocol}://${ref.registry}`);
    this.checkScheme(this.base);
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.credentials = resolveCredentials(options, options.env ?? process.env);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.onProgress = options.onProgress;
    if (this.credentials.token) this.authorization = `Bearer ${this.credentials.token}`;
  }

  progress(event: OciProgressEvent): void {
    this.onProgress?.(event);
  }

  private error(
    code: OciErrorCode,
    message: string,
    extra: { status?: number; cause?: unknown } = {},
  ): PackError {
    return new PackError(code, message, { reference: this.display, ...extra });
  }

  private checkScheme(url: URL): void {
    if (url.protocol === 'https:') return;
    if (url.protocol !== 'http:') {
      throw this.error('GT_PACK_OCI_REGISTRY', `refusing to follow a ${url.protocol} URL from ${url.host}`);
    }
    if (!this.insecure && !isLoopbackHost(url.hostname)) {
      throw this.error(
        'GT_PACK_OCI_INSECURE',
        `refusing plain HTTP to ${url.host}: it is not a loopback host. Use HTTPS, or pass insecure: true ` +
          '(packc: --insecure) if you really mean an unencrypted registry',
      );
    }
  }

  private repoPath(kind: 'blobs' | 'manifests', ref: string): string {
    return `/v2/${this.ref.repository}/${kind}/${ref}`;
  }

  /** One HTTP exchange with redirects followed by hand (so the scheme policy applies to every hop). */
  private async send(url: URL, init: OciRequest, authorization: string | undefined): Promise<Response> {
    let current = url;
    for (let hop = 0; ; hop++) {
      this.checkScheme(current);
      const sameOrigin = current.origin === this.base.origin;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...init.headers };
      if (authorization && sameOrigin) headers.authorization = authorization;
      let res: Response;
      try {
        res = await this.fetchImpl(current, {
          method: init.method,
          headers,
          body: init.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        const reason =
          err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : '';
        throw this.error(
          'GT_PACK_OCI_NETWORK',
          `cannot reach the registry at ${current.origin} (${init.method} ${current.pathname}): ${reason}`,
          { cause: err },
        );
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        if (init.method !== 'GET' && init.method !== 'HEAD') return res; // upload Location: the caller's job
        await discard(res);
        if (hop >= MAX_REDIRECTS) {
          throw this.error('GT_PACK_OCI_REGISTRY', `more than ${MAX_REDIRECTS} redirects from ${url.origin}`);
        }
        current = new URL(location, current);
        continue;
      }
      return res;
    }
  }

  /**
   * A request to this registry: answers a 401 challenge once (basic or token flow) and keeps the resulting
   * authorization for later requests. 401 after that, or 403, is `GT_PACK_OCI_AUTH`.
   */
  async request(pathOrUrl: string | URL, init: OciRequest): Promise<Response> {
    const url =
      typeof pathOrUrl === 'string' && pathOrUrl.startsWith('/')
        ? new URL(pathOrUrl, this.base)
        : new URL(pathOrUrl);
    let res = await this.send(url, init, this.authorization);
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await discard(res);
      const authorization = await this.answerChallenge(parseWwwAuthenticate(challenge), init.actions);
      this.authorization = authorization;
      res = await this.send(url, init, authorization);
      if (res.status === 401) {
        const detail = await registryErrorText(res);
        throw this.error(
          'GT_PACK_OCI_AUTH',
          `the registry ${this.ref.registry} rejected the credentials (HTTP 401${detail ? `: ${detail}` : ''}); ` +
            'check GREENTIC_OCI_USERNAME/GREENTIC_OCI_PASSWORD or GREENTIC_OCI_TOKEN',
          { status: 401 },
        );
      }
    }
    if (res.status === 403) {
      const detail = await registryErrorText(res);
      throw this.error(
        'GT_PACK_OCI_AUTH',
        `the registry ${this.ref.registry} denied ${init.actions === 'pull' ? 'pulling from' : 'pushing to'} ` +
          `${this.ref.repository} (HTTP 403${detail ? `: ${detail}` : ''}); these credentials lack the permission`,
        { status: 403 },
      );
    }
    return res;
  }

  private async answerChallenge(challenges: AuthChallenge[], actions: 'pull' | 'pull,push'): Promise<string> {
    const { username, password, token } = this.credentials;
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    const noCreds =
      'set GREENTIC_OCI_USERNAME and GREENTIC_OCI_PASSWORD (or GREENTIC_OCI_TOKEN), or pass username/password';
    if (token && !(bearer?.params.realm && username)) {
      // A static token was sent and refused.
      throw this.error(
        'GT_PACK_OCI_AUTH',
        `the registry ${this.ref.registry} rejected the bearer token (HTTP 401)`,
        {
          status: 401,
        },
      );
    }
    if (bearer?.params.realm) return `Bearer ${await this.fetchToken(bearer, actions)}`;
    if (basic || challenges.length === 0) {
      if (username === undefined) {
        throw this.error(
          'GT_PACK_OCI_AUTH',
          `the registry ${this.ref.registry} requires authentication; ${noCreds}`,
          {
            status: 401,
          },
        );
      }
      if (this.authorization?.startsWith('Basic ')) {
        throw this.error(
          'GT_PACK_OCI_AUTH',
          `the registry ${this.ref.registry} rejected the credentials (HTTP 401)`,
          {
            status: 401,
          },
        );
      }
      return basicAuthorization(username, password ?? '');
    }
    throw this.error(
      'GT_PACK_OCI_AUTH',
      `the registry ${this.ref.registry} asks for an unsupported authentication scheme ` +
        `(${challenges.map((c) => c.scheme).join(', ')}); supported: basic, bearer`,
      { status: 401 },
    );
  }

  /** The registry token flow: GET realm?service=…&scope=… (with basic credentials if we have them). */
  private async fetchToken(challenge: AuthChallenge, actions: 'pull' | 'pull,push'): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm!);
    } catch (err) {
      throw this.error('GT_PACK_OCI_AUTH', `the registry ${this.ref.registry} sent an unusable token realm`, {
        cause: err,
      });
    }
    this.checkScheme(realm);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    const scopes = new Set<string>();
    if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) if (s) scopes.add(s);
    scopes.add(`repository:${this.ref.repository}:${actions}`);
    for (const s of scopes) realm.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' };
    const { username, password } = this.credentials;
    if (username !== undefined) headers.authorization = basicAuthorization(username, password ?? '');
    let res: Response;
    try {
      res = await this.fetchImpl(realm, {
        method: 'GET',
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.error('GT_PACK_OCI_NETWORK', `cannot reach the token service at ${realm.origin}`, {
        cause: err,
      });
    }
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw this.error(
        'GT_PACK_OCI_AUTH',
        `the token service at ${realm.origin} refused ${username === undefined ? 'anonymous access' : 'the credentials'} ` +
          `(HTTP ${res.status}); ${username === undefined ? 'set GREENTIC_OCI_USERNAME and GREENTIC_OCI_PASSWORD' : 'check them'}`,
        { status: res.status },
      );
    }
    if (res.status !== 200) {
      const detail = await registryErrorText(res);
      throw this.error(
        'GT_PACK_OCI_AUTH',
        `the token service at ${realm.origin} answered HTTP ${res.status} ${detail}`,
        {
          status: res.status,
        },
      );
    }
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw this.error('GT_PACK_OCI_AUTH', `the token service at ${realm.origin} did not answer JSON`, {
        cause: err,
      });
    }
    const tok = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof tok !== 'string' || !/^[!-~]+$/.test(tok)) {
      throw this.error(
        'GT_PACK_OCI_AUTH',
        `the token service at ${realm.origin} answered without a usable token`,
      );
    }
    return tok;
  }

  /** Throws the right error for an unexpected status. */
  private async unexpected(res: Response, what: string): Promise<never> {
    const detail = await registryErrorText(res);
    if (res.status === 404) {
      throw this.error(
        'GT_PACK_OCI_NOT_FOUND',
        `${what}: not found in ${this.display}${detail ? ` (${detail})` : ''}`,
        {
          status: 404,
        },
      );
    }
    throw this.error(
      'GT_PACK_OCI_REGISTRY',
      `${what}: the registry answered HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
      { status: res.status },
    );
  }

  /** True when the blob is already in the repository (HEAD). */
  async blobExists(digest: string, size: number): Promise<boolean> {
    const res = await this.request(this.repoPath('blobs', digest), { method: 'HEAD', actions: 'pull,push' });
    await discard(res);
    if (res.status === 404) return false;
    if (res.status !== 200) return this.unexpected(res, `checking blob ${digest}`);
    const length = res.headers.get('content-length');
    if (length !== null && Number(length) !== size) {
      throw this.error(
        'GT_PACK_OCI_DIGEST_MISMATCH',
        `the registry holds blob ${digest} with ${length} bytes, but it has ${size}: the registry is inconsistent`,
      );
    }
    return true;
  }

  /** Uploads a blob unless it exists: HEAD, then POST (start) + PUT (monolithic, `?digest=`). */
  async pushBlob(
    bytes: Uint8Array,
    digest = sha256Digest(bytes),
  ): Promise<{ digest: string; skipped: boolean }> {
    if (await this.blobExists(digest, bytes.byteLength)) {
      this.progress({ type: 'blob-exists', digest, size: bytes.byteLength });
      return { digest, skipped: true };
    }
    const start = await this.request(`/v2/${this.ref.repository}/blobs/uploads/`, {
      method: 'POST',
      body: new Uint8Array(0),
      actions: 'pull,push',
    });
    await discard(start);
    if (start.status !== 202) return this.unexpected(start, `starting the upload of ${digest}`);
    const location = start.headers.get('location');
    if (!location)
      throw this.error('GT_PACK_OCI_REGISTRY', 'the registry started an upload without a Location');
    const url = new URL(location, this.base);
    // Append, do not re-encode: the upload state in the query string must reach the registry byte for byte.
    url.search = `${url.search ? `${url.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
    const put = await this.request(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
      actions: 'pull,push',
    });
    if (put.status !== 201 && put.status !== 204) {
      if (put.status === 400) {
        const detail = await registryErrorText(put);
        if (/DIGEST_INVALID|SIZE_INVALID/.test(detail)) {
          throw this.error(
            'GT_PACK_OCI_DIGEST_MISMATCH',
            `the registry says blob ${digest} does not match (${detail})`,
            {
              status: 400,
            },
          );
        }
        throw this.error('GT_PACK_OCI_REGISTRY', `uploading ${digest}: HTTP 400 (${detail})`, {
          status: 400,
        });
      }
      return this.unexpected(put, `uploading ${digest}`);
    }
    await discard(put);
    const stored = put.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw this.error(
        'GT_PACK_OCI_DIGEST_MISMATCH',
        `the registry stored the blob as ${stored}, but its sha256 is ${digest}`,
      );
    }
    this.progress({ type: 'blob-uploaded', digest, size: bytes.byteLength });
    return { digest, skipped: false };
  }

  /** PUT a manifest under a tag or its digest; returns its digest (cross-checked with the registry's). */
  async pushManifest(bytes: Uint8Array, mediaType: string, reference: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const res = await this.request(this.repoPath('manifests', reference), {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: bytes,
      actions: 'pull,push',
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 204) {
      return this.unexpected(res, `pushing the manifest to ${reference}`);
    }
    await discard(res);
    const stored = res.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw this.error(
        'GT_PACK_OCI_DIGEST_MISMATCH',
        `the registry stored the manifest as ${stored}, but its sha256 is ${digest}`,
      );
    }
    this.progress({ type: 'manifest-pushed', digest, reference });
    return digest;
  }

  /** HEAD a manifest: its digest, media type and size (GET when the registry sends no digest header). */
  async headManifest(reference: string): Promise<{ digest: string; mediaType: string; size: number }> {
    const res = await this.request(this.repoPath('manifests', reference), {
      method: 'HEAD',
      headers: { accept: ACCEPTED_MANIFEST_MEDIA_TYPES.join(', ') },
      actions: 'pull',
    });
    await discard(res);
    if (res.status !== 200) return this.unexpected(res, `resolving ${reference}`);
    const digest = res.headers.get('docker-content-digest');
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const size = Number(res.headers.get('content-length') ?? Number.NaN);
    if (digest && isSha256Digest(digest) && Number.isSafeInteger(size)) {
      if (isSha256Digest(reference) && digest !== reference) {
        throw this.error(
          'GT_PACK_OCI_DIGEST_MISMATCH',
          `asked for manifest ${reference}, the registry named ${digest}`,
        );
      }
      return { digest, mediaType, size };
    }
    const fetched = await this.getManifest(reference);
    return { digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.bytes.byteLength };
  }

  /**
   * GET a manifest (by tag or digest), bounded to 4 MiB. By digest the bytes must hash to it; by tag they must
   * hash to the registry's `Docker-Content-Digest` when it sends one.
   */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const res = await this.request(this.repoPath('manifests', reference), {
      method: 'GET',
      headers: { accept: ACCEPTED_MANIFEST_MEDIA_TYPES.join(', ') },
      actions: 'pull',
    });
    if (res.status !== 200) return this.unexpected(res, `fetching manifest ${reference}`);
    const bytes = await this.readBody(res, MAX_MANIFEST_BYTES, `manifest ${reference}`);
    const digest = sha256Digest(bytes);
    const expected = isSha256Digest(reference) ? reference : res.headers.get('docker-content-digest');
    if (expected && isSha256Digest(expected) && expected !== digest) {
      throw this.error(
        'GT_PACK_OCI_DIGEST_MISMATCH',
        `manifest ${reference} hashes to ${digest}, expected ${expected}: it was altered in transit or in the registry`,
      );
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim() || undefined;
    const display = formatOciReference({
      ...this.ref,
      digest: isSha256Digest(reference) ? reference : undefined,
    });
    const manifest = parseImageManifest(bytes, display, contentType);
    return {
      manifest,
      bytes,
      digest,
      mediaType: manifest.mediaType ?? contentType ?? OCI_MANIFEST_MEDIA_TYPE,
    };
  }

  private async readBody(res: Response, limit: number, what: string): Promise<Buffer> {
    const length = res.headers.get('content-length');
    if (length !== null && Number(length) > limit) {
      await discard(res);
      throw this.error('GT_PACK_OCI_TOO_LARGE', `${what} is ${length} bytes; the limit is ${limit}`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > limit) {
          await discard(res);
          throw this.error('GT_PACK_OCI_TOO_LARGE', `${what} is larger than the limit of ${limit} bytes`);
        }
        chunks.push(Buffer.from(chunk));
      }
    }
    return Buffer.concat(chunks, total);
  }

  /**
   * Downloads a blob, hashing while it streams: more bytes than the descriptor says abort at once; a wrong
   * size or sha256 at the end is `GT_PACK_OCI_DIGEST_MISMATCH`. `limit` is checked before the first byte.
   */
  async fetchBlob(desc: Descriptor, limit: number, what: string): Promise<Buffer> {
    if (desc.size > limit) {
      throw this.error(
        'GT_PACK_OCI_TOO_LARGE',
        `${what} ${desc.digest} is ${humanSize(desc.size)}; the limit is ${humanSize(limit)} (raise maxBytes if intended)`,
      );
    }
    const res = await this.request(this.repoPath('blobs', desc.digest), { method: 'GET', actions: 'pull' });
    if (res.status !== 200) return this.unexpected(res, `fetching ${what} ${desc.digest}`);
    this.progress({ type: 'download-start', digest: desc.digest, size: desc.size });
    const mismatch = (detail: string) =>
      this.error(
        'GT_PACK_OCI_DIGEST_MISMATCH',
        `${what} ${desc.digest} does not match its descriptor (${detail}): it was altered in transit or in the ` +
          'registry; nothing was written',
      );
    const length = res.headers.get('content-length');
    if (length !== null && Number(length) !== desc.size) {
      await discard(res);
      throw mismatch(`the registry sends ${length} bytes, the manifest says ${desc.size}`);
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > desc.size) {
          await discard(res);
          throw mismatch(`more than the ${desc.size} bytes announced`);
        }
        hash.update(chunk);
        chunks.push(Buffer.from(chunk));
      }
    }
    if (total !== desc.size) throw mismatch(`${total} bytes received, ${desc.size} announced`);
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== desc.digest) throw mismatch(`its content hashes to ${digest}`);
    this.progress({ type: 'download-done', digest, size: total });
    return Buffer.concat(chunks, total);
  }
}

/** The manifest a push writes: deterministic JSON (fixed key order, no white space). */
export function buildManifestBytes(manifest: ImageManifest): Buffer {
  const desc = (d: Descriptor) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations && Object.keys(d.annotations).length > 0
      ? { annotations: sortKeys(d.annotations) }
      : {}),
  });
  const out = {
    schemaVersion: 2,
    mediaType: manifest.mediaType ?? OCI_MANIFEST_MEDIA_TYPE,
    ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
    config: desc(manifest.config),
    layers: manifest.layers.map(desc),
    ...(manifest.annotations && Object.keys(manifest.annotations).length > 0
      ? { annotations: sortKeys(manifest.annotations) }
      : {}),
  };
  return Buffer.from(JSON.stringify(out), 'utf8');
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
