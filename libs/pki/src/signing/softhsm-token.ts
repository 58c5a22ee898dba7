/**
 * Development and test tokens in SoftHSM2 (https://github.com/opendnssec/SoftHSMv2).
 * Never a production choice: its token files are protected by the PIN only.
 *
 * SoftHSM2 finds its configuration through the SOFTHSM2_CONF environment
 * variable, read by the module at C_Initialize. This library does not touch
 * the environment (STYLE.md rule 1): the caller sets SOFTHSM2_CONF to
 * `configPath` in the process that loads the module, and passes its
 * environment in `env` for the softhsm2-util child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where SoftHSM2 is usually installed by Debian/Ubuntu's softhsm2 package. */
export const SOFTHSM2_DEFAULT_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmTokenOptions {
  /** A directory of its own; the config file and the token directory are created inside. */
  directory: string;
  tokenLabel: string;
  /** Security officer PIN (at least 4 characters for SoftHSM2). */
  soPin: string;
  /** User PIN, the one the CA logs in with (at least 4 characters). */
  pin: string;
  /** The environment for softhsm2-util (PATH etc.); SOFTHSM2_CONF is set on top of it. */
  env: Record<string, string | undefined>;
  /** Default `softhsm2-util` from PATH. */
  softhsmUtil?: string;
}

/**
 * Writes `<directory>/softhsm2.conf` with its own token directory and
 * initialises a token in the first free slot, like
 * `softhsm2-util --init-token --free --label L --so-pin S --pin P`.
 * Returns the config path to put in SOFTHSM2_CONF.
 */
export function createSoftHsmToken(options: SoftHsmTokenOptions): { configPath: string; tokenDirectory: string } {
  const tokenDirectory = join(options.directory, 'tokens');
  const configPath = join(options.directory, 'softhsm2.conf');
  mkdirSync(tokenDirectory, { recursive: true });
  writeFileSync(
    configPath,
    [
      `directories.tokendir = ${tokenDirectory}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      '',
    ].join('\n'),
  );
  const result = spawnSync(
    options.softhsmUtil ?? 'softhsm2-util',
    ['--init-token', '--free', '--label', options.tokenLabel, '--so-pin', options.soPin, '--pin', options.pin],
    { env: { ...options.env, SOFTHSM2_CONF: configPath }, encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `softhsm2-util --init-token for "${options.tokenLabel}" failed: ${result.error?.message ?? result.stderr.trim()}`,
      { cause: result.error },
    );
  }
  return { configPath, tokenDirectory };
}
