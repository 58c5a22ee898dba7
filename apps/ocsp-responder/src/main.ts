import '../../../tools/module-aliases';
import 'reflect-metadata';
import { ConfigurationError, createHttpApp, keyOpenerFor, listen, loadConfig } from '@moica/platform';

import { OcspResponderModule } from './ocsp-responder.module';

/** ocsp-responder: reads config, builds and serves. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createHttpApp(OcspResponderModule.forRoot(config, keyOpenerFor(config)), { bodyLimit: 64 * 1024 });
  const url = await listen(app, config.OCSP_PORT, config.HOST);
  console.log(JSON.stringify({ level: 'info', service: 'ocsp-responder', msg: `ocsp-responder listening on ${url}` }));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
});
