import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MAX_OCSP_REQUEST_BYTES } from '@moica/pki';
import type { OcspMetrics, OcspResult } from './ocsp-metrics';
import { OcspResponder, type OcspAnswer } from './ocsp-responder';
import type { OcspSigningIdentity } from './ocsp-signing-identity';

/** What the routes need: an answer per request, and the served CAs (GET paths may name one). */
export interface OcspAnswering {
  answer(der: Uint8Array): OcspAnswer | Promise<OcspAnswer>;
  readonly servedIssuers: readonly OcspSigningIdentity[];
}

const OCSP_RESPONSE_TYPE = 'application/ocsp-response';
/** Idle keep-alive time of client connections. */
export const KEEP_ALIVE_MS = 72_000;
/** RFC 5019 §5: GET requests are for small requests; base64 of our POST limit is more than enough. */
const MAX_GET_PATH = Math.ceil((MAX_OCSP_REQUEST_BYTES * 4) / 3) * 3;

/**
 * The OCSP endpoints on their own Fastify instance (no Nest controller,
 * guard, pipe, interceptor or middleware on the hot path), sharing the
 * process's one port with the Nest app: the server's request listener sends
 * `/ocsp...` and `/metrics` here and everything else (health, CRLs) to Nest's
 * Fastify instance (`routing`), docs/ocsp.md.
 *
 *   POST /ocsp, POST /ocsp/<ca>           body: DER OCSPRequest, Content-Type application/ocsp-request (RFC 6960 §A.1)
 *   GET  /ocsp/<url-encoded base64 DER>   RFC 5019 §5 (also under /ocsp/<ca>/...)
 *   GET  /metrics                         Prometheus
 *
 * Every OCSP request, parsed or not, gets 200 with an OCSPResponse
 * (RFC 6960 §2.3: malformedRequest, unauthorized, tryLater are OCSP
 * statuses); HTTP errors are for what is not an OCSP request at all: 415
 * wrong content type, 413 body over 64 KiB, 400 bad URL, 404 no route.
 */
export function createOcspServer(
  responder: OcspAnswering,
  metrics: OcspMetrics,
  now: () => Date,
  others: (request: IncomingMessage, response: ServerResponse) => void,
): FastifyInstance {
  const instance = Fastify({
    logger: false,
    bodyLimit: MAX_OCSP_REQUEST_BYTES,
    serverFactory: (handler) => {
      const server = createServer((request, response) => {
        const url = request.url ?? '';
        if (url.startsWith('/ocsp') || url === '/metrics') handler(request, response);
        else others(request, response);
      });
      // Idle keep-alive connections outlive a load balancer's idle timeout (60 s on the common ones), so the
      // balancer, not we, closes them: no request races a close. Fastify sets its keepAliveTimeout option
      // only on a server it creates itself, not on one from serverFactory (Node's default is 5 s).
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.headersTimeout = KEEP_ALIVE_MS + 1000; // Node: must exceed keepAliveTimeout
      return server;
    },
  });
  registerOcspRoutes(instance, responder, metrics, now);
  return instance;
}

/** Registers the OCSP routes on `instance` (in an encapsulated context). */
export function registerOcspRoutes(
  instance: FastifyInstance,
  responder: OcspAnswering,
  metrics: OcspMetrics,
  now: () => Date,
): void {
  void instance.register(async (ocsp) => {
    ocsp.removeAllContentTypeParsers();
    ocsp.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer', bodyLimit: MAX_OCSP_REQUEST_BYTES }, (_request, body, done) =>
      done(null, body),
    );
    ocsp.setErrorHandler((error: { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      metrics.observe(request.method === 'GET' ? 'GET' : 'POST', 'httpError', 0);
      void reply.code(status).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${status} ${error.code ?? 'bad request'}\n`);
    });

    const post = (request: FastifyRequest, reply: FastifyReply) => {
      const started = performance.now();
      const body = request.body as Buffer | undefined;
      return reply_(reply, 'POST', started, Buffer.isBuffer(body) ? responder.answer(body) : MALFORMED);
    };
    ocsp.post('/ocsp', post);
    ocsp.post('/ocsp/:ca', post);

    ocsp.get('/ocsp/*', (request, reply) => {
      const started = performance.now();
      const der = decodeGetPath(request.url, responder);
      return reply_(reply, 'GET', started, der ? responder.answer(der) : MALFORMED);
    });

    ocsp.get('/metrics', (_request, reply) => {
      void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store').send(metrics.render());
    });
  });

  /**
   * Sends the answer now, or when its promise settles. Returns undefined for
   * a synchronous answer and a promise of undefined otherwise, never the
   * reply: a reply is a thenable, and Fastify waits on a handler's thenable
   * result (`reply.then` attaches end-of-stream listeners to the response and
   * the socket): about 8 % more CPU per answer, measured side by side
   * (docs/benchmarks.md "Session 7").
   */
  function reply_(reply: FastifyReply, method: 'GET' | 'POST', started: number, answer: OcspAnswer | Promise<OcspAnswer>): Promise<void> | undefined {
    if (answer instanceof Promise) return answer.then((value) => send(reply, method, started, value));
    send(reply, method, started, answer);
    return undefined;
  }

  /**
   * Writes the answer on the raw response (`reply.hijack()`): one `writeHead`
   * with a flat header list and one `end`, skipping Fastify's reply pipeline
   * (no hooks or serialisers on this instance to run). About 5 % less CPU per
   * answer in the responder process (docs/benchmarks.md, session 6). A HEAD
   * request gets the headers only: Node drops the body of a HEAD response.
   */
  function send(reply: FastifyReply, method: 'GET' | 'POST', started: number, answer: OcspAnswer): void {
    const der = Buffer.isBuffer(answer.der) ? answer.der : Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.length);
    const entry = answer.cacheable;
    let headers: string[];
    if (entry) {
      // RFC 5019 §6.2: caches may keep the response until its nextUpdate, no longer.
      const maxAge = Math.max(0, Math.floor((entry.nextUpdate - now().getTime()) / 1000));
      headers = [
        'content-type', OCSP_RESPONSE_TYPE,
        'content-length', String(der.length),
        'cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`,
        'last-modified', httpDate(entry.thisUpdate),
        'expires', httpDate(entry.nextUpdate),
        'etag', OcspResponder.etagOf(entry),
      ];
    } else {
      // Nonced and error responses are for one request only.
      headers = ['content-type', OCSP_RESPONSE_TYPE, 'content-length', String(der.length), 'cache-control', 'no-store'];
    }
    metrics.observe(method, answer.result as OcspResult, (performance.now() - started) / 1000);
    reply.hijack();
    reply.raw.writeHead(200, headers);
    reply.raw.end(der);
  }
}

const MALFORMED: OcspAnswer = { der: Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x01), result: 'malformedRequest' };

/**
 * HTTP dates (RFC 9110 §5.6.7, whole seconds) by the second: pre-signed
 * responses share a few thousand distinct thisUpdate/nextUpdate values, so a
 * small bounded map replaces a pair of strings kept per cached entry.
 */
const httpDates = new Map<number, string>();
const MAX_HTTP_DATES = 8192;

export function httpDate(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  let text = httpDates.get(second);
  if (text === undefined) {
    if (httpDates.size >= MAX_HTTP_DATES) httpDates.clear();
    text = new Date(second * 1000).toUTCString();
    httpDates.set(second, text);
  }
  return text;
}

/**
 * The DER of an RFC 5019 §5 GET: `/ocsp/[<ca>/]<url-encoded base64>`.
 * Base64 may itself contain '/', so a first segment is dropped only when it
 * names a served CA. Undefined when the path is not base64 of something.
 */
export function decodeGetPath(url: string, responder: OcspAnswering): Uint8Array | undefined {
  const query = url.indexOf('?');
  let rest = (query < 0 ? url : url.slice(0, query)).slice('/ocsp/'.length);
  if (rest.length === 0 || rest.length > MAX_GET_PATH) return undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (responder.servedIssuers.some((identity) => encodeURIComponent(identity.caName) === first)) rest = rest.slice(slash + 1);
  }
  let text: string;
  try {
    text = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  // Strict base64 (RFC 4648 §4), padding optional; some clients send spaces for '+' (form-encoding habits).
  text = text.replace(/ /g, '+');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const der = Buffer.from(text, 'base64');
  return der.length > 0 ? der : undefined;
}
