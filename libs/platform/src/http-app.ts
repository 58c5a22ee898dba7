import type { IncomingMessage } from 'node:http';
import { DynamicModule, INestApplication, Type, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { settleHttpMessageShapes } from './http-message-shapes';
import { keepTickObjectShapeAlive } from './tick-object-shape';
import { requestIdOf } from './logging';
import { ProblemDetailsFilter } from './problem-details.filter';

/**
 * Builds a Nest app on Fastify with what every HTTP process here shares:
 * pino logs with request ids (echoed as X-Request-Id), problem+json errors,
 * DTO validation at the edge, shutdown hooks for a clean Ctrl-C. Before
 * anything else, V8 is made to size node:http's request and response objects
 * (settleHttpMessageShapes: a sparse start would leave them slow for the
 * life of the process), and to keep the shapes of `process.nextTick` entries
 * (keepTickObjectShapeAlive: an idle full collection would leave every tick
 * slow for the life of the process).
 */
export async function createHttpApp(
  module: Type<unknown> | DynamicModule,
  options: { bodyLimit?: number } = {}): Promise<NestFastifyApplication> {
  settleHttpMessageShapes();
  keepTickObjectShapeAlive();
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: (req: IncomingMessage) => requestIdOf(req),
    logger: false,
    trustProxy: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
  app.enableShutdownHooks();
  return app;
}

export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  return `http://${host}:${port}`;
}
