import { Controller, Get, HttpStatus, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProblemException } from '@moica/platform';
import { Public } from '../auth/roles.decorator';

/**
 * The files of the operator console (apps/ca-api/console): plain HTML, CSS
 * and JavaScript modules, no build step. They are found beside the sources
 * (tests, ts-jest) or, from the compiled dist/apps/ca-api/src/console, in the
 * repository's apps/ca-api/console (the Dockerfile copies that directory).
 */
export function consoleDirectory(): string {
  const candidates = [resolve(__dirname, '..', '..', 'console'), resolve(__dirname, '..', '..', '..', '..', '..', 'apps', 'ca-api', 'console')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`operator console files not found (looked in ${candidates.join(', ')})`);
  return found;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * The page has no privileged path: it is public static content, and every
 * action it offers calls the /v1 API with the signed-in staff member's token
 * (role checks and audit there). The policy allows only the console's own
 * scripts and styles and calls to this origin; no framing.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Issue 10: serves the operator console at /console. */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleAssetsController {
  private readonly files = new Map<string, { type: string; body: Buffer }>();

  constructor() {
    const dir = consoleDirectory();
    for (const name of ['index.html', 'console.css', 'app.js', 'api.js', 'i18n.js', 'charts.js', 'views.js', 'dom.js']) {
      this.files.set(name, { type: TYPES[name.split('.').pop()!], body: readFileSync(join(dir, name)) });
    }
  }

  @Get()
  index(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  @Get(':file')
  file(@Param('file') file: string, @Res() reply: FastifyReply): void {
    this.send(reply, file);
  }

  private send(reply: FastifyReply, name: string): void {
    const file = this.files.get(name);
    if (!file) throw new ProblemException('not-found', HttpStatus.NOT_FOUND, 'Not Found', `no console file ${name}`);
    void reply.headers(SECURITY_HEADERS).header('content-type', file.type).send(file.body);
  }
}
