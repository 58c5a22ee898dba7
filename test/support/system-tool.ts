import { spawnSync } from 'node:child_process';

/**
 * Tests that drive a real client (openssl, certtool, softhsm2-util...) say so
 * here. Without the tool they are skipped, with a line saying why; under
 * CI=true `.ci/run` has installed every tool, so a missing one fails the run.
 */
export function hasTool(command: string, versionArgs: string[] = ['--version']): boolean {
  const found = spawnSync(command, versionArgs, { stdio: 'ignore' }).error === undefined;
  if (!found && process.env.CI === 'true') {
    throw new Error(`${command} is required under CI=true (.ci/run installs it) but was not found`);
  }
  return found;
}

/** `describe` when every tool is present, `describe.skip` with a reason otherwise. */
export function describeWithTools(tools: string[], name: string, body: () => void): void {
  const missing = tools.filter((tool) => !hasTool(tool, tool === 'openssl' ? ['version'] : ['--version']));
  if (missing.length === 0) {
    describe(name, body);
  } else {
    console.warn(`skipping "${name}": missing ${missing.join(', ')} (apt-get install them, or run .ci/run)`);
    describe.skip(name, body);
  }
}
