import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** RFC 9457 problem details. `type` is stable per reason code: clients branch on it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'urn:moica-ca:problem:';

/** An error that carries its own problem details (reason code, status, detail). */
export class ProblemException extends HttpException {
  constructor(
    readonly code: string,
    status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super({ code, title, detail }, status);
  }
}

/**
 * Every error leaves the API as application/problem+json (RFC 9457). Unknown
 * errors are logged with the request id and answered 500 without internals.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const problem = toProblem(exception);
    if (problem.status >= 500) this.logger.error({ err: exception, requestId: request.id }, 'unhandled error');
    // RFC 9110 §10.2.3: tell a locked-out or rate-limited client when to come back.
    if (typeof problem.retryAfterSeconds === 'number') void reply.header('retry-after', String(problem.retryAfterSeconds));
    void reply
      .status(problem.status)
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send({ ...problem, instance: request.id ? `urn:request:${request.id}` : undefined });
  }
}

export function toProblem(exception: unknown): ProblemDetails {
  if (exception instanceof ProblemException) {
    return {
      type: PROBLEM_TYPE_BASE + exception.code,
      title: exception.title,
      status: exception.getStatus(),
      detail: exception.detail,
      ...exception.extensions,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? (response as { message: unknown }).message
        : exception.message;
    const detail = Array.isArray(message) ? message.join('; ') : String(message);
    const code = status === HttpStatus.BAD_REQUEST ? 'invalid-request' : slug(HttpStatus[status] ?? 'error');
    return { type: PROBLEM_TYPE_BASE + code, title: HttpStatus[status] ? titleOf(status) : 'Error', status, detail };
  }
  // Fastify's own errors (bad JSON body, body too large, wrong content type) carry a statusCode.
  const fastifyStatus = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return {
      type: PROBLEM_TYPE_BASE + 'invalid-request',
      title: titleOf(fastifyStatus),
      status: fastifyStatus,
      detail: (exception as Error).message,
    };
  }
  return { type: PROBLEM_TYPE_BASE + 'internal-error', title: 'Internal Server Error', status: 500 };
}

function slug(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

function titleOf(status: number): string {
  const name = HttpStatus[status] ?? 'ERROR';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
}
