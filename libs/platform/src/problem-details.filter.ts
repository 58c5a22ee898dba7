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
    // A transient 503 (database unreachable, transaction conflict, signing failed) is a warning named by its problem type.
    if (problem.status === 503) this.logger.warn({ err: exception, requestId: request.id, problem: problem.type }, problem.detail ?? 'service unavailable');
    else if (problem.status >= 500) this.logger.error({ err: exception, requestId: request.id }, 'unhandled error');
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
  if (isDatabaseUnavailable(exception)) {
    // RFC 9110 §15.6.4: a temporary condition; the client retries with the same Idempotency-Key.
    return {
      type: PROBLEM_TYPE_BASE + 'database-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'the database is unreachable or restarting; retry with the same Idempotency-Key',
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    };
  }
  if (isTransactionConflict(exception)) {
    // PostgreSQL rolled the transaction back to resolve a conflict with a concurrent one: transient, like the above.
    return {
      type: PROBLEM_TYPE_BASE + 'transaction-conflict',
      title: 'Service Unavailable',
      status: 503,
      detail: 'the database aborted this request in a conflict with a concurrent one (deadlock or serialization failure); nothing was committed: retry with the same Idempotency-Key',
      retryAfterSeconds: CONFLICT_RETRY_AFTER_SECONDS,
    };
  }
  return { type: PROBLEM_TYPE_BASE + 'internal-error', title: 'Internal Server Error', status: 500 };
}

/** Seconds before retrying a transaction PostgreSQL aborted in a conflict (the other transaction is usually done by then). */
export const CONFLICT_RETRY_AFTER_SECONDS = 1;

/** 40001 serialization_failure, 40P01 deadlock_detected: the transaction was rolled back and may simply be retried. */
const CONFLICT_SQLSTATE = new Set(['40001', '40P01']);

/** True when the error (or one of its causes) is PostgreSQL aborting the transaction in a conflict with another. */
export function isTransactionConflict(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONFLICT_SQLSTATE.has(code)) return true;
    current = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Seconds a client should wait before retrying when the database is unreachable (a restart or fail-over takes seconds). */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** SQLSTATE classes and codes that mean "the server is not there right now", not "your request is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08...|57P01|57P02|57P03|53300|25006)$/;
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/**
 * True when the error (or one of its causes) says the database could not be
 * reached or dropped the connection: a restart, a fail-over, a network cut.
 * 25006 (read-only transaction) is a write that reached a standby, as after a
 * fail-over before the connection string is switched.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SOCKET_CODES.has(code))) return true;
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    current = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return false;
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
