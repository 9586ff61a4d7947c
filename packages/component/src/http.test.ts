import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HostServiceError } from '@greentic/interfaces';
import { tenantCtx } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHostHttp } from './http.js';

// A body bigger than every limit below, sent in chunks with no content-length: `sent` counts what went out.
const CHUNK = 64 * 1024;
let streamed = { sent: 0, aborted: false };

const server = createServer((req, res) => {
  if (req.url === '/slow') {
    setTimeout(() => res.end('late'), 2_000).unref();
  } else if (req.url === '/slow-body') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first part');
    setTimeout(() => res.end('late part'), 2_000).unref();
  } else if (req.url === '/redirect') {
    res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
  } else if (req.url === '/declared-big') {
    res.writeHead(200, { 'content-length': String(1024 * 1024) });
    res.end(Buffer.alloc(1024 * 1024));
  } else if (req.url === '/endless') {
    streamed = { sent: 0, aborted: false };
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.on('close', () => {
      streamed.aborted = !res.writableFinished;
    });
    const pump = () => {
      while (streamed.sent < 64 * 1024 * 1024 && !res.destroyed) {
        streamed.sent += CHUNK;
        if (!res.write(Buffer.alloc(CHUNK))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  } else if (req.url === '/echo-body') {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => res.end(`${req.method} ${Buffer.concat(parts).toString()}`));
  } else if (req.url === '/empty') {
    res.writeHead(204).end();
  } else {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-test': 'yes' }).end(`${req.method} ${req.url}`);
  }
});

let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const call = { ctx: tenantCtx({ env: 'dev', tenant: 'acme' }), component: 'weather' };
const get = (path: string, extra: object = {}) => ({
  method: 'GET',
  url: `${base}${path}`,
  headers: [] as [string, string][],
  ...extra,
});

describe('fetchHostHttp', () => {
  it('returns status, headers and body', async () => {
    const res = await fetchHostHttp().send(call, get('/hello'));
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.body)).toBe('GET /hello');
    expect(res.headers).toContainEqual(['x-test', 'yes']);
  });

  it('sends a request body, and none for an empty one', async () => {
    const http = fetchHostHttp();
    const post = await http.send(
      call,
      get('/echo-body', { method: 'POST', body: new TextEncoder().encode('hi') }),
    );
    expect(new TextDecoder().decode(post.body)).toBe('POST hi');
    const empty = await http.send(call, get('/echo-body', { body: new Uint8Array(0) }));
    expect(new TextDecoder().decode(empty.body)).toBe('GET ');
    const noContent = await http.send(call, get('/empty'));
    expect(noContent).toMatchObject({ status: 204, body: new Uint8Array(0) });
  });

  it('never follows a redirect, whatever the component asks, so it cannot leave the allowed hosts', async () => {
    const res = await fetchHostHttp().send(call, get('/redirect', { followRedirects: true }));
    expect(res.status).toBe(302);
    expect(res.headers).toContainEqual(['location', 'http://169.254.169.254/']);
  });

  it('reports a request that outlives its timeout as a timeout, also while the body is still coming', async () => {
    const http = fetchHostHttp();
    await expect(http.send(call, get('/slow', { timeoutMs: 100 }))).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('did not answer within 100 ms'),
    });
    await expect(http.send(call, get('/slow-body', { timeoutMs: 150 }))).rejects.toMatchObject({
      code: 'timeout',
    });
  });

  it('applies the default timeout when the component gives none, and caps the component timeout', async () => {
    await expect(fetchHostHttp({ defaultTimeoutMs: 100 }).send(call, get('/slow'))).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('within 100 ms'),
    });
    await expect(
      fetchHostHttp({ maxTimeoutMs: 100 }).send(call, get('/slow', { timeoutMs: 60_000 })),
    ).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('within 100 ms') });
  });

  it('reports a cancelled component call as cancelled, not as a timeout', async () => {
    const ac = new AbortController();
    const p = fetchHostHttp().send({ ...call, signal: ac.signal }, get('/slow', { timeoutMs: 5_000 }));
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    const already = AbortSignal.abort();
    await expect(fetchHostHttp().send({ ...call, signal: already }, get('/hello'))).rejects.toMatchObject({
      code: 'cancelled',
    });
  });

  it('refuses a body whose declared length is over the limit before reading it', async () => {
    await expect(
      fetchHostHttp({ maxResponseBytes: 1000 }).send(call, get('/declared-big')),
    ).rejects.toMatchObject({
      code: 'too_large',
      message: expect.stringContaining('1048576 bytes (content-length); the limit is 1000 bytes'),
    });
  });

  it('enforces the body limit while reading: an endless body is cut off, not downloaded', async () => {
    const err = await fetchHostHttp({ maxResponseBytes: 256 * 1024 })
      .send(call, get('/endless'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostServiceError);
    expect(err).toMatchObject({ code: 'too_large', message: expect.stringContaining('download stopped') });
    await expect.poll(() => streamed.aborted).toBe(true);
    // The server stopped far short of the 64 MiB it would have sent (what it wrote is in socket buffers at most).
    expect(streamed.sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('reports refused connections as unavailable and requests fetch refuses as invalid input', async () => {
    const refused = fetchHostHttp().send(call, { method: 'GET', url: 'http://127.0.0.1:9/', headers: [] });
    await expect(refused).rejects.toBeInstanceOf(HostServiceError);
    await expect(refused).rejects.toMatchObject({
      code: 'unavailable',
      message: /GET http:\/\/127\.0\.0\.1:9 failed/,
    });
    await expect(
      fetchHostHttp().send(call, get('/hello', { headers: [['bad header', 'x']] })),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('uses the injected fetch, and names only the origin in messages (paths and queries may hold tokens)', async () => {
    const seen: RequestInit[] = [];
    const http = fetchHostHttp({
      fetch: async (_url, init) => {
        seen.push(init ?? {});
        throw new Error('no network in this test');
      },
    });
    const e = await Promise.resolve(
      http.send(call, {
        method: 'GET',
        url: 'https://api.example.com/bot123:SECRET/x?key=SECRET',
        headers: [],
      }),
    ).catch((x: Error) => x);
    expect(e).toMatchObject({ code: 'unavailable' });
    expect((e as Error).message).toBe('GET https://api.example.com failed: no network in this test');
    expect(seen[0]).toMatchObject({ redirect: 'manual' });
    expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
  });
});
