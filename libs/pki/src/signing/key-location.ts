/**
 * Where a CA key lives: exactly one location per CA key (STYLE.md rule 3),
 * written in configuration as one string.
 *
 *   software:<path>
 *       An encrypted PKCS#8 PEM (see SoftwareSigner), for development.
 *       Example: software:/etc/moica/dev/issuing-ca.key.pem
 *
 *   pkcs11:token=<token label>;object=<key label>[;type=private]?module-path=<module>[&pin-source=<ref>]
 *       A key in a PKCS#11 token, in the PKCS#11 URI syntax of RFC 7512:
 *       path attributes (RFC 7512 §2.3) `token` and `object` are required,
 *       `type` may only be `private`; query attributes `module-path` is
 *       required, `pin-source` is optional and only handed back to the
 *       caller (which reads the PIN from its secret store). `pin-value` is
 *       refused: a PIN never sits in configuration. Values are
 *       percent-encoded where needed (RFC 3986 §2.1), e.g. a space as %20.
 *       Example: pkcs11:token=MOICA%20CA;object=issuing-ca-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/hsm-pin
 *
 * Unknown or repeated attributes are errors: a typo must not silently point
 * at another key.
 */
import { Pkcs11SignerOptions, openPkcs11Signer } from './pkcs11-signer';
import { Signer, SigningError } from './signer';
import { SoftwareSigner } from './software-signer';

export type KeyLocation = SoftwareKeyLocation | Pkcs11KeyLocation;

export interface SoftwareKeyLocation {
  kind: 'software';
  /** Path of the encrypted PKCS#8 PEM. */
  path: string;
}

export interface Pkcs11KeyLocation {
  kind: 'pkcs11';
  /** RFC 7512 `module-path`. */
  modulePath: string;
  /** RFC 7512 `token`: the token label. */
  tokenLabel: string;
  /** RFC 7512 `object`: the key's CKA_LABEL. */
  objectLabel: string;
  /** RFC 7512 `pin-source`, if given: where the caller should read the PIN from. Not interpreted here. */
  pinSource?: string;
}

/** A key location that cannot be parsed. The message says what is wrong and shows the expected syntax. */
export class InvalidKeyLocation extends Error {
  constructor(
    readonly location: string,
    detail: string,
  ) {
    super(`invalid key location "${location}": ${detail}`);
    this.name = 'InvalidKeyLocation';
  }
}

const PKCS11_SYNTAX = 'pkcs11:token=<token label>;object=<key label>?module-path=<path to the PKCS#11 module>';
const PATH_ATTRIBUTES = new Set(['token', 'object', 'type']);
const QUERY_ATTRIBUTES = new Set(['module-path', 'pin-source']);

/** Parses a key location (syntax in the file comment). Throws InvalidKeyLocation. */
export function parseKeyLocation(text: string): KeyLocation {
  const location = text.trim();
  if (location.startsWith('software:')) {
    const path = location.slice('software:'.length);
    if (path.length === 0) throw new InvalidKeyLocation(text, 'expected software:<path to an encrypted PKCS#8 PEM>');
    return { kind: 'software', path };
  }
  if (location.startsWith('pkcs11:')) return parsePkcs11(text, location.slice('pkcs11:'.length));
  throw new InvalidKeyLocation(text, `expected software:<path> or ${PKCS11_SYNTAX}`);
}

/** The configuration string for a location; `parseKeyLocation(formatKeyLocation(x))` equals `x`. */
export function formatKeyLocation(location: KeyLocation): string {
  if (location.kind === 'software') return `software:${location.path}`;
  const query = [`module-path=${encodeValue(location.modulePath)}`];
  if (location.pinSource !== undefined) query.push(`pin-source=${encodeValue(location.pinSource)}`);
  return `pkcs11:token=${encodeValue(location.tokenLabel)};object=${encodeValue(location.objectLabel)}?${query.join('&')}`;
}

/** A stable, non-secret name for logs and SigningErrors. */
export function keyLocationLabel(location: KeyLocation): string {
  return location.kind === 'software'
    ? `software:${location.path}`
    : `pkcs11:${location.tokenLabel}/${location.objectLabel}`;
}

/** The secret that unlocks a key: the PEM passphrase (software) or the user PIN (PKCS#11). */
export interface KeySecrets {
  passphrase?: string;
  pin?: string;
}

/** Reads a file; injected so that libs do no I/O of their own choosing (e.g. `(p) => fs.promises.readFile(p, 'utf8')`). */
export type ReadKeyFile = (path: string) => Promise<string | Uint8Array>;

export interface OpenSignerOptions {
  /** Options for PKCS#11 keys (mechanism, imported keys, session pool size). */
  pkcs11?: Pkcs11SignerOptions & { sessionPoolSize?: number };
}

/**
 * Opens the Signer for a key location. Software keys need `secrets.passphrase`
 * and are read with `readFile`; PKCS#11 keys need `secrets.pin`. Every failure
 * is a SigningError naming the key (never the secret).
 */
export async function openSigner(
  location: KeyLocation | string,
  secrets: KeySecrets,
  readFile: ReadKeyFile,
  options: OpenSignerOptions = {},
): Promise<Signer> {
  const parsed = typeof location === 'string' ? parseKeyLocation(location) : location;
  const keyLabel = keyLocationLabel(parsed);
  if (parsed.kind === 'software') {
    if (!secrets.passphrase) throw new SigningError(keyLabel, 'no passphrase was given for the software key');
    let pem: string;
    try {
      const content = await readFile(parsed.path);
      pem = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    } catch (cause) {
      throw new SigningError(keyLabel, `cannot read ${parsed.path}`, { cause });
    }
    return SoftwareSigner.fromEncryptedPem(keyLabel, pem, secrets.passphrase);
  }
  if (!secrets.pin) throw new SigningError(keyLabel, 'no PIN was given for the PKCS#11 token');
  return openPkcs11Signer({
    ...options.pkcs11,
    modulePath: parsed.modulePath,
    tokenLabel: parsed.tokenLabel,
    pin: secrets.pin,
    keyLabel: parsed.objectLabel,
  });
}

function parsePkcs11(text: string, rest: string): Pkcs11KeyLocation {
  const queryStart = rest.indexOf('?');
  const pathPart = queryStart === -1 ? rest : rest.slice(0, queryStart);
  const queryPart = queryStart === -1 ? '' : rest.slice(queryStart + 1);
  const path = parseAttributes(text, pathPart, ';', PATH_ATTRIBUTES, 'path');
  const query = parseAttributes(text, queryPart, '&', QUERY_ATTRIBUTES, 'query');

  const type = path.get('type');
  if (type !== undefined && type !== 'private') {
    throw new InvalidKeyLocation(text, `type=${type}: a CA key location names the private key (type=private or no type)`);
  }
  const tokenLabel = path.get('token');
  const objectLabel = path.get('object');
  const modulePath = query.get('module-path');
  for (const [name, value] of [
    ['token', tokenLabel],
    ['object', objectLabel],
    ['module-path', modulePath],
  ] as const) {
    if (!value) throw new InvalidKeyLocation(text, `"${name}" is required; expected ${PKCS11_SYNTAX}`);
  }
  const pinSource = query.get('pin-source');
  return {
    kind: 'pkcs11',
    modulePath: modulePath as string,
    tokenLabel: tokenLabel as string,
    objectLabel: objectLabel as string,
    ...(pinSource === undefined ? {} : { pinSource }),
  };
}

function parseAttributes(
  text: string,
  part: string,
  separator: string,
  allowed: Set<string>,
  where: 'path' | 'query',
): Map<string, string> {
  const attributes = new Map<string, string>();
  if (part === '') return attributes;
  for (const pair of part.split(separator)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new InvalidKeyLocation(text, `"${pair}" is not name=value`);
    const name = pair.slice(0, equals);
    if (name === 'pin-value') {
      throw new InvalidKeyLocation(text, 'pin-value is refused: a PIN never sits in configuration; use pin-source');
    }
    if (!allowed.has(name)) {
      throw new InvalidKeyLocation(
        text,
        `unknown ${where} attribute "${name}" (allowed in the ${where}: ${[...allowed].join(', ')})`,
      );
    }
    if (attributes.has(name)) throw new InvalidKeyLocation(text, `"${name}" is given twice`);
    attributes.set(name, decodeValue(text, pair.slice(equals + 1)));
  }
  return attributes;
}

/** RFC 7512 §2.3: values are pct-encoded UTF-8; '+' is a literal plus, not a space. */
function decodeValue(text: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new InvalidKeyLocation(text, `"${value}" has an invalid percent-encoding`);
  }
}

/** Percent-encodes what RFC 7512's pchar/qchar would not allow literally (and the separators). */
function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/gi, '@');
}
