/**
 * The upper bound of this machine for our HTTP stack: a bare Fastify server
 * (the version the responder runs on) answering every POST /ocsp with the
 * same fixed OCSP response bytes (a real pre-signed response, so the bytes
 * on the wire match). No parsing, no look-up, no Nest. It keeps the shapes
 * of `process.nextTick` entries alive as the responder does
 * (keepTickObjectShapeAlive), so that neither side is slowed by an idle
 * garbage collection.
 *
 *   node dist/bench/ocsp/static-server.js <port> <response.der>
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { keepTickObjectShapeAlive } from '../../libs/platform/src/tick-object-shape';

async function main(): Promise<void> {
  keepTickObjectShapeAlive();
  const [portText, file] = process.argv.slice(2);
  const body = readFileSync(file);
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer' }, (_request, payload, done) => done(null, payload));
  app.post('/ocsp', (_request, reply) => {
    void reply.header('content-type', 'application/ocsp-response').send(body);
  });
  await app.listen({ port: Number(portText), host: '127.0.0.1' });
  console.log(`static OCSP server on http://127.0.0.1:${portText}`);
}

void main();
