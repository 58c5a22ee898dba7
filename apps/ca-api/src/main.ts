import '../../../tools/module-aliases';
import 'reflect-metadata';
import { ConfigurationError, createHttpApp, keyOpenerFor, listen, loadConfig } from '@moica/platform';
import { CaApiModule } from './ca-api.module';
import { serveOpenApi } from './openapi';

/** ca-api: reads config, builds and serves. Nothing else happens here. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createHttpApp(CaApiModule.forRoot(config, keyOpenerFor(config)));
  serveOpenApi(app);
  const url = await listen(app, config.CA_API_PORT, config.HOST);
  console.log(JSON.stringify({ level: 'info', service: 'ca-api', msg: `ca-api listening on ${url} (OpenAPI ${url}/openapi.json, docs ${url}/docs)` }));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
});
