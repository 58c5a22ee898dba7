import '../../../tools/module-aliases';
import 'reflect-metadata';
import { ConfigurationError, createHttpApp, keyOpenerFor, loadConfig } from '@moica/platform';

import { OcspResponderModule } from './ocsp-responder.module';
import { createOcspServer } from './ocsp/ocsp-http';
import { OcspService } from './ocsp/ocsp.service';

/**
 * ocsp-responder: reads config, builds and serves. One port: OCSP (and
 * /metrics) on a bare Fastify instance, everything else (health, CRL
 * downloads) on the Nest app's Fastify instance (docs/ocsp.md).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createHttpApp(OcspResponderModule.forRoot(config, keyOpenerFor(config)), { bodyLimit: 64 * 1024 });
  await app.init();
  const nest = app.getHttpAdapter().getInstance();
  await nest.ready();
  const ocsp = app.get(OcspService);
  const server = createOcspServer(ocsp, ocsp.metrics, () => config.clock.now(), (request, response) => nest.routing(request, response));
  ocsp.closeWithApp(server);
  await server.listen({ port: config.OCSP_PORT, host: config.HOST });
  const url = `http://${config.HOST}:${config.OCSP_PORT}`;
  console.log(JSON.stringify({ level: 'info', service: 'ocsp-responder', msg: `ocsp-responder listening on ${url}` }));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
});
