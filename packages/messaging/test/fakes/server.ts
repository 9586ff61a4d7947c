// A tiny local HTTP server for fake provider APIs: records every request, answers through a handler, and lets a
// test queue scripted answers (errors, rate limits) for the next calls of an operation.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  /** JSON or form body, parsed. */
  body: Record<string, unknown>;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
}

export type Handler = (req: Recorded, api: FakeApi) => Answer;

export class FakeApi {
  readonly requests: Recorded[] = [];
  private readonly scripted = new Map<string, Answer[]>();
  url = '';
  private server!: Server;

  private constructor(
    private readonly handler: Handler,
    private readonly opOf: (path: string) => string,
  ) {}

  /** Starts on 127.0.0.1 with an ephemeral port. `opOf` names the operation of a path (for scripting). */
  static async start(handler: Handler, opOf: (path: string) => string = (p) => p): Promise<FakeApi> {
    const api = new FakeApi(handler, opOf);
    api.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        const ct = req.headers['content-type'] ?? '';
        try {
          if (ct.includes('json') && raw) body = JSON.parse(raw);
          else if (ct.includes('x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(raw));
        } catch {
          body = {};
        }
        const rec: Recorded = {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          raw,
          body,
        };
        api.requests.push(rec);
        const queue = api.scripted.get(api.opOf(rec.path.split('?')[0]!));
        const answer = queue?.shift() ?? api.handler(rec, api);
        const isText = typeof answer.body === 'string';
        res.writeHead(answer.status, {
          'content-type': isText ? 'text/html' : 'application/json',
          ...(answer.headers ?? {}),
        });
        res.end(
          answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body),
        );
      });
    });
    await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  /** The next calls of `op` get these answers, in order; then the handler answers again. */
  script(op: string, ...answers: Answer[]): this {
    this.scripted.set(op, [...(this.scripted.get(op) ?? []), ...answers]);
    return this;
  }

  /** Recorded calls of one operation. */
  calls(op: string): Recorded[] {
    return this.requests.filter((r) => this.opOf(r.path.split('?')[0]!) === op);
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }
}
