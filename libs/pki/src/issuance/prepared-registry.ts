/**
 * Module-private bookkeeping that makes a {@link PreparedCertificate} opaque:
 * the linted TBS bytes are kept in a private copy, and each prepared
 * certificate moves prepared -> signing -> issued at most once.
 */
import type { PreparedCertificate } from './prepare-certificate';

interface Entry {
  readonly tbsDer: Uint8Array;
  state: 'prepared' | 'signing' | 'issued';
}

const entries = new WeakMap<PreparedCertificate, Entry>();

export function registerPrepared(prepared: PreparedCertificate, tbsDer: Uint8Array): void {
  entries.set(prepared, { tbsDer: tbsDer.slice(), state: 'prepared' });
}

export function preparedEntry(prepared: PreparedCertificate): Entry | undefined {
  return entries.get(prepared);
}
