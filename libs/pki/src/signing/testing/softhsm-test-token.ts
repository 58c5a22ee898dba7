/**
 * Test support (not exported from the library): a fresh SoftHSM2 token in a
 * temporary directory, for one spec file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { createSoftHsmToken, SOFTHSM2_DEFAULT_MODULE } from '../softhsm-token';

export interface SoftHsmTestToken {
  modulePath: string;
  tokenLabel: string;
  pin: string;
  directory: string;
  /** Removes the token directory. Close every Pkcs11Token first. */
  remove(): void;
}

/**
 * Creates the token and points the process's real environment at it.
 *
 * Jest gives each test file a copy of `process.env`, but SoftHSM2 (native
 * code) reads SOFTHSM2_CONF with getenv() at C_Initialize. A worker thread
 * started with SHARE_ENV writes the real environment of the process.
 */
export async function createSoftHsmTestToken(
  baseEnv: Record<string, string | undefined>,
  tokenLabel = 'moica-test',
  pin = '246810',
): Promise<SoftHsmTestToken> {
  const directory = mkdtempSync(join(tmpdir(), 'moica-softhsm-'));
  const { configPath } = createSoftHsmToken({ directory, tokenLabel, soPin: '13579111', pin, env: baseEnv });
  await setNativeEnvironmentVariable('SOFTHSM2_CONF', configPath);
  return {
    modulePath: SOFTHSM2_DEFAULT_MODULE,
    tokenLabel,
    pin,
    directory,
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

async function setNativeEnvironmentVariable(name: string, value: string): Promise<void> {
  const worker = new Worker(`process.env[${JSON.stringify(name)}] = ${JSON.stringify(value)};`, {
    eval: true,
    env: SHARE_ENV,
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`setting ${name} failed (exit ${code})`))));
  });
}
