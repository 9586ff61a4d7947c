import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { traceRequests } from './trace.js';

/** What the HTTP endpoints read from the daemon. */
export interface DaemonView {
  health(): {
    status: string;
    active_flows: string[];
    last_reload: string | null;
    last_error: string | null;
  };
  readiness(): { ready: boolean; checks: Record<string, boolean | string> };
  flows(): unknown;
  /** The packs the runner has loaded (`GET /admin/packs`). */
  packsView?(): unknown;
  stats(): unknown;
  /** `reason` says why (broadcast to the other runners with NATS). */
  reload(opts?: {
    reason?: string;
  }): Promise<
    | { ok: true; flows: string[]; last_reload: string; [more: string]: unknown }
    | { ok: false; error: unknown; [more: string]: unknown }
  >;
}

/** True for 127.0.0.0/8 and ::1, also when written as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The admin gate. With a token: `Authorization: Bearer <token>` from anywhere (compared in constant time).
 * Without one: loopback callers only (the socket's address — forwarding headers are not trusted).
 */
export function adminGate(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return (req: FastifyRequest): { ok: true } | { ok: false; status: 401 | 403; message: string } => {
    if (expected === undefined) {
      return isLoopback(req.socket.remoteAddress)
        ? { ok: true }
        : {
            ok: false,
            status: 403,
            message: 'the admin API answers only on loopback when admin.token is not set',
          };
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return { ok: false, status: 401, message: 'admin API: send Authorization: Bearer <admin.token>' };
    return timingSafeEqual(digest(m[1]!), expected)
      ? { ok: true }
      : { ok: false, status: 401, message: 'admin API: wrong bearer token' };
  };
}

export function buildHttpServer(view: DaemonView, opts: { adminToken?: string }): FastifyInstance {
  const app = Fastify({ logger: false, trustProxy: false, forceCloseConnections: true });
  const gate = adminGate(opts.adminToken);
  // before any route: webhooks and WebChat posts carry their caller's trace context into the turns they queue
  traceRequests(app);

  app.get('/healthz', async () => view.health());
  app.get('/readyz', async (_req, reply) => {
    const r = view.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });

  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
        const g = gate(req);
        if (!g.ok) {
          if (g.status === 401) reply.header('www-authenticate', 'Bearer realm="greentic-runner admin"');
          return reply.code(g.status).send({ error: { code: 'GT_RUNNER_ADMIN_DENIED', message: g.message } });
        }
      });
      admin.get('/flows', async () => view.flows());
      admin.get('/packs', async () => view.packsView?.() ?? { enabled: false, packs: [] });
      admin.get('/stats', async () => view.stats());
      admin.post('/reload', async (_req, reply) => {
        const r = await view.reload({ reason: 'POST /admin/reload' });
        return reply.code(r.ok ? 200 : 422).send(r);
      });
    },
    { prefix: '/admin' },
  );
  return app;
}
