/**
 * Test helpers: the real registry (scripts/oci-registry.mjs), a loopback reverse proxy in front of it that counts
 * requests, can flip a byte of blob downloads and can demand registry-style bearer tokens, and fixture bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error: a plain .mjs script without type declarations
import { startRegistry } from '../../../../scripts/oci-registry.mjs';

export interface TestRegistry {
  url: string;
  host: string;
  port: number;
  installed: string[];
  installMs: number;
  stop(): Promise<void>;
}

/**
 * Starts a real registry. Fails (never skips) with the script's message when docker-registry cannot be
 * installed or started.
 */
export async function startTestRegistry(auth?: {
  username: string;
  password: string;
}): Promise<TestRegistry> {
  const started = Date.now();
  let reg: TestRegistry;
  try {
    reg = (await startRegistry(auth ? { auth } : {})) as TestRegistry;
  } catch (err) {
    throw new Error(
      `cannot start the test OCI registry (Debian docker-registry via scripts/oci-registry.mjs): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (reg.installed.length > 0) {
    process.stderr.write(
      `[oci tests] apt-get installed ${reg.installed.join(', ')} in ${reg.installMs} ms (one-time)\n`,
    );
  }
  process.stderr.write(
    `[oci tests] registry ${reg.url}${auth ? ' (htpasswd)' : ''} up in ${Date.now() - started} ms\n`,
  );
  return reg;
}

/** Deterministic pseudo-random bytes (a sha256 chain) — a stand-in .gtpack. */
export function fixtureBytes(size: number, seed = 'greentic-oci'): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A repository name no other test uses. */
export function uniqueRepo(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface ProxyOptions {
  /** Flip one byte in the middle of every successful blob GET. */
  tamperBlobs?: boolean;
  /** Require `Authorization: Bearer <token>` from a token service at `/token` (basic auth with these creds). */
  bearer?: { username: string; password: string };
}

export interface TestProxy {
  url: string;
  /** `host:port` for oci:// references. */
  host: string;
  /** Every request seen, in order. */
  requests: { method: string; path: string; authorization: string | undefined }[];
  /** The token the token service issues (bearer mode). */
  token: string;
  /** Query strings of token requests (bearer mode). */
  tokenRequests: URLSearchParams[];
  tamperBlobs: boolean;
  stop(): Promise<void>;
}

/** A loopback reverse proxy to `target` (an http://127.0.0.1:port registry URL). */
export async function startProxy(target: string, options: ProxyOptions = {}): Promise<TestProxy> {
  const upstream = new URL(target);
  const token = randomBytes(16).toString('hex');
  const proxy: TestProxy = {
    url: '',
    host: '',
    requests: [],
    token,
    tokenRequests: [],
    tamperBlobs: options.tamperBlobs ?? false,
    stop: async () => {},
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    proxy.requests.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const headers = { ...req.headers };
    if (options.bearer) {
      if (path.startsWith('/token')) {
        proxy.tokenRequests.push(new URL(path, 'http://x').searchParams);
        const expected = `Basic ${Buffer.from(`${options.bearer.username}:${options.bearer.password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token, expires_in: 300 }));
        return;
      }
      if (req.headers.authorization !== `Bearer ${token}`) {
        const realm = `${proxy.url}/token`;
        res
          .writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': `Bearer realm="${realm}",service="greentic-proxy",scope="repository:any:pull"`,
          })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        req.resume();
        return;
      }
      delete headers.authorization;
    }
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers },
      (ures) => {
        const isBlobGet =
          req.method === 'GET' && /\/blobs\/sha256:[a-f0-9]{64}$/.test(path) && ures.statusCode === 200;
        if (proxy.tamperBlobs && isBlobGet) {
          const chunks: Buffer[] = [];
          ures.on('data', (c: Buffer) => chunks.push(c));
          ures.on('end', () => {
            const body = Buffer.concat(chunks);
            if (body.length > 0) body[body.length >> 1] = body[body.length >> 1]! ^ 0x01;
            res.writeHead(200, ures.headers).end(body);
          });
          return;
        }
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      },
    );
    up.on('error', (err) => {
      res.writeHead(502).end(String(err));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** A `fetch` that counts its calls. */
export function countingFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const wrapped: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${input instanceof URL ? input.href : String(input)}`);
    return fetch(input, init);
  };
  return { fetch: wrapped, calls };
}
