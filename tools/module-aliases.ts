/**
 * Resolves the workspace aliases (@moica/policy, @moica/pki, @moica/db,
 * @moica/platform) of compiled code to their folders under dist/. Each
 * process entry imports this first; tsc keeps the aliases as written, and
 * jest maps them itself (moduleNameMapper).
 */
import Module from 'node:module';
import { join } from 'node:path';

const DIST = join(__dirname, '..');
const ALIASES: Record<string, string> = {
  '@moica/policy': join(DIST, 'libs/policy/src'),
  '@moica/pki': join(DIST, 'libs/pki/src'),
  '@moica/db': join(DIST, 'db'),
  '@moica/platform': join(DIST, 'libs/platform/src'),
};

type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
const resolveFilename = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return resolveFilename.call(this, ALIASES[request] ?? request, ...rest);
};
