import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino from 'pino';
import { maskNationalIds, scrubPersonalData } from './personal-data';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id: the caller's X-Request-Id when well-formed, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Structured JSON logs (pino) with a request id on every line, secrets
 * redacted and national-ID-shaped strings masked in messages, fields and
 * URLs alike.
 */
export function pinoOptions(service: string, level: string): pino.LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubPersonalData(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? maskNationalIds(arg) : arg)) as Parameters<typeof method>,
        );
      },
    },
  };
}

/** nestjs-pino parameters for an HTTP app. */
export function httpLoggerParams(service: string, level: string, stream?: pino.DestinationStream): Params {
  return {
    pinoHttp: [
      {
        ...pinoOptions(service, level),
        genReqId: (req) => requestIdOf(req),
        customProps: (req) => ({ requestId: (req as IncomingMessage & { id?: string }).id }),
        serializers: {
          req: (req: { id: string; method: string; url: string }) => ({
            id: req.id,
            method: req.method,
            url: maskNationalIds(req.url),
          }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      },
      stream ?? pino.destination(1),
    ],
  };
}
