/**
 * The operations of the key ceremony and their parameters. Parameters are
 * validated and normalised when an operation is requested, stored as they
 * are (key_operation_approval.parameters), and approved by their digest: an
 * operator approves exactly these bytes, and `execute` refuses parameters
 * whose digest differs from what every approver saw.
 */
import { createHash } from 'node:crypto';
import {
  CaDistinguishedName,
  CaNameAttribute,
  CaNameAttributeType,
  encodeDistinguishedName,
  KeyAlgorithm,
  OID,
  parseKeyLocation,
} from '@moica/pki';
import type { CreateCardUnlockMasterKeyParameters } from './card-unlock-master-key';
import { CeremonyRefused } from './ceremony-errors';

/** Operations that need M-of-N approval (they create or use a CA key). */
export const APPROVED_OPERATIONS = [
  'create-root',
  'create-issuing',
  'import-parent-certificate',
  'rotate-ocsp-signer',
  'create-card-unlock-master-key',
] as const;
export type CeremonyOperation = (typeof APPROVED_OPERATIONS)[number];

/** Key algorithm names as written in the database and on the command line (as tools/dev-ca.ts writes them). */
export const KEY_ALGORITHM_NAMES = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-P-256', 'EC-P-384'] as const;
export type KeyAlgorithmName = (typeof KEY_ALGORITHM_NAMES)[number];

export interface CreateRootParameters {
  name: string;
  subject: CaNameAttribute[];
  keyLocation: string;
  keyAlgorithm: KeyAlgorithmName;
  validityYears: number;
}

export interface CreateIssuingParameters {
  name: string;
  subject: CaNameAttribute[];
  keyLocation: string;
  keyAlgorithm: KeyAlgorithmName;
  validityYears: number;
  /** `local:<root CA name>` (signed here by that CA's key) or `external` (a CSR for another authority). */
  parent: string;
  crlUrls: string[];
  ocspUrls: string[];
  caIssuersUrls: string[];
  policyOids: string[];
}

export interface ImportParentCertificateParameters {
  /** The name of the pending issuing CA (create-issuing --parent external). */
  name: string;
  /** The parent-issued certificate, base64 DER. */
  certificate: string;
  /** SHA-256 of that DER, hex: what operators compare with the parent's announcement. */
  certificateSha256: string;
  /** The parent's own certificate, base64 DER: its name and signature are checked. */
  parentCertificate: string;
}

export interface RotateOcspSignerParameters {
  /** The CA whose delegated OCSP signer (RFC 6960 §4.2.2.2) is replaced. */
  ca: string;
  subject: CaNameAttribute[];
  keyLocation: string;
  keyAlgorithm: KeyAlgorithmName;
  validityDays: number;
}

export interface OperationParameters {
  'create-root': CreateRootParameters;
  'create-issuing': CreateIssuingParameters;
  'import-parent-certificate': ImportParentCertificateParameters;
  'rotate-ocsp-signer': RotateOcspSignerParameters;
  'create-card-unlock-master-key': CreateCardUnlockMasterKeyParameters;
}

/** RFC 6960 §4.2.2.2.1: the responder certificate cannot be checked for revocation, so it lives briefly. */
export const MAX_OCSP_SIGNER_DAYS = 90;
export const DEFAULT_OCSP_SIGNER_DAYS = 30;
const MAX_CA_YEARS = 30;

export function isCeremonyOperation(value: string): value is CeremonyOperation {
  return (APPROVED_OPERATIONS as readonly string[]).includes(value);
}

export function keyAlgorithmFromName(name: string): KeyAlgorithm {
  switch (name) {
    case 'RSA-2048':
      return { kind: 'RSA', modulusBits: 2048 };
    case 'RSA-3072':
      return { kind: 'RSA', modulusBits: 3072 };
    case 'RSA-4096':
      return { kind: 'RSA', modulusBits: 4096 };
    case 'EC-P-256':
      return { kind: 'EC', curve: 'P-256' };
    case 'EC-P-384':
      return { kind: 'EC', curve: 'P-384' };
    default:
      throw new CeremonyRefused('invalid-parameters', `key algorithm "${name}" is not one of ${KEY_ALGORITHM_NAMES.join(', ')}`);
  }
}

export function keyAlgorithmName(key: KeyAlgorithm): KeyAlgorithmName {
  return (key.kind === 'RSA' ? `RSA-${key.modulusBits}` : `EC-${key.curve}`) as KeyAlgorithmName;
}

const NAME_TYPES: readonly CaNameAttributeType[] = ['C', 'O', 'OU', 'CN', 'serialNumber'];

/**
 * Parses a distinguished name written as `C=TW, O=內政部, CN=內政部憑證管理中心`
 * (most significant first, as certificates list them; `\,` for a comma in a
 * value). Only the attribute types CA names use here.
 */
export function parseDistinguishedName(text: string): CaNameAttribute[] {
  const parts = text.split(/(?<!\\),/).map((part) => part.trim().replace(/\\,/g, ','));
  const name = parts.map((part) => {
    const equals = part.indexOf('=');
    const type = part.slice(0, Math.max(equals, 0)).trim();
    const value = part.slice(equals + 1).trim();
    if (equals <= 0 || !(NAME_TYPES as readonly string[]).includes(type)) {
      throw new CeremonyRefused('invalid-parameters', `"${part}" in the subject is not TYPE=value with TYPE one of ${NAME_TYPES.join(', ')}`);
    }
    return { type: type as CaNameAttributeType, value };
  });
  checkName(name);
  return name;
}

/** The form parseDistinguishedName reads. */
export function formatDistinguishedName(name: CaDistinguishedName): string {
  return name.map((attribute) => `${attribute.type}=${attribute.value.replace(/,/g, '\\,')}`).join(', ');
}

function checkName(name: CaDistinguishedName): void {
  try {
    encodeDistinguishedName(name);
  } catch (cause) {
    throw new CeremonyRefused('invalid-parameters', `subject: ${(cause as Error).message}`);
  }
}

/**
 * Canonical JSON (keys sorted at every level): PostgreSQL's jsonb reorders
 * keys, so the digest must not depend on the order.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What an operator approves: SHA-256 over the operation and its canonical parameters, hex. */
export function parametersDigest(operation: string, parameters: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonicalJson(parameters)}`, 'utf8').digest('hex');
}

/**
 * Checks and normalises the parameters of an operation (defaults filled in,
 * nothing unknown kept). Throws CeremonyRefused('invalid-parameters').
 */
export function validateParameters<O extends CeremonyOperation>(operation: O, raw: unknown): OperationParameters[O] {
  const input = record(raw);
  switch (operation) {
    case 'create-root':
      return {
        name: caName(input.name),
        subject: subject(input.subject, 'subject'),
        keyLocation: keyLocation(input.keyLocation),
        keyAlgorithm: algorithm(input.keyAlgorithm),
        validityYears: integer(input.validityYears, 'validityYears', 1, MAX_CA_YEARS),
      } satisfies CreateRootParameters as OperationParameters[O];
    case 'create-issuing': {
      const parent = text(input.parent, 'parent');
      if (parent !== 'external' && !/^local:.+/.test(parent)) {
        throw new CeremonyRefused('invalid-parameters', `parent "${parent}" must be local:<root CA name> or external`);
      }
      return {
        name: caName(input.name),
        subject: subject(input.subject, 'subject'),
        keyLocation: keyLocation(input.keyLocation),
        keyAlgorithm: algorithm(input.keyAlgorithm),
        validityYears: integer(input.validityYears, 'validityYears', 1, MAX_CA_YEARS),
        parent,
        crlUrls: urls(input.crlUrls, 'crlUrls'),
        ocspUrls: urls(input.ocspUrls, 'ocspUrls'),
        caIssuersUrls: urls(input.caIssuersUrls, 'caIssuersUrls'),
        policyOids: oids(input.policyOids ?? [OID.gpkiClass3Assurance]),
      } satisfies CreateIssuingParameters as OperationParameters[O];
    }
    case 'import-parent-certificate': {
      const certificate = base64Der(input.certificate, 'certificate');
      const digest = createHash('sha256').update(Buffer.from(certificate, 'base64')).digest('hex');
      if (input.certificateSha256 !== undefined && input.certificateSha256 !== digest) {
        throw new CeremonyRefused('invalid-parameters', 'certificateSha256 does not match the certificate');
      }
      return {
        name: caName(input.name),
        certificate,
        certificateSha256: digest,
        parentCertificate: base64Der(input.parentCertificate, 'parentCertificate'),
      } satisfies ImportParentCertificateParameters as OperationParameters[O];
    }
    case 'rotate-ocsp-signer':
      return {
        ca: caName(input.ca),
        subject: subject(input.subject, 'subject'),
        keyLocation: keyLocation(input.keyLocation),
        keyAlgorithm: algorithm(input.keyAlgorithm),
        validityDays: integer(input.validityDays ?? DEFAULT_OCSP_SIGNER_DAYS, 'validityDays', 1, MAX_OCSP_SIGNER_DAYS),
      } satisfies RotateOcspSignerParameters as OperationParameters[O];
    case 'create-card-unlock-master-key':
      return {
        version: integer(input.version, 'version', 1, 0x7fffffff),
        keyLocation: keyLocation(input.keyLocation),
      } satisfies CreateCardUnlockMasterKeyParameters as OperationParameters[O];
    default:
      throw new CeremonyRefused('invalid-parameters', `unknown operation "${String(operation)}"`);
  }
}

function record(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CeremonyRefused('invalid-parameters', 'parameters must be an object');
  }
  return raw as Record<string, unknown>;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new CeremonyRefused('invalid-parameters', `${field} is required`);
  return value.trim();
}

function caName(value: unknown): string {
  const name = text(value, 'name');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
    throw new CeremonyRefused('invalid-parameters', `CA name "${name}" must be 1-63 letters, digits, ".", "_" or "-"`);
  }
  return name;
}

function subject(value: unknown, field: string): CaNameAttribute[] {
  if (typeof value === 'string') return parseDistinguishedName(value);
  if (!Array.isArray(value) || value.length === 0) throw new CeremonyRefused('invalid-parameters', `${field} is required`);
  const name = value.map((entry) => {
    const attribute = record(entry);
    if (typeof attribute.type !== 'string' || typeof attribute.value !== 'string') {
      throw new CeremonyRefused('invalid-parameters', `${field} entries are { type, value }`);
    }
    if (!(NAME_TYPES as readonly string[]).includes(attribute.type)) {
      throw new CeremonyRefused('invalid-parameters', `${field}: attribute type ${attribute.type} is not one of ${NAME_TYPES.join(', ')}`);
    }
    return { type: attribute.type as CaNameAttributeType, value: attribute.value };
  });
  checkName(name);
  return name;
}

function keyLocation(value: unknown): string {
  const location = text(value, 'keyLocation');
  try {
    parseKeyLocation(location);
  } catch (cause) {
    throw new CeremonyRefused('invalid-parameters', (cause as Error).message);
  }
  return location;
}

function algorithm(value: unknown): KeyAlgorithmName {
  const name = text(value, 'keyAlgorithm');
  keyAlgorithmFromName(name);
  return name as KeyAlgorithmName;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new CeremonyRefused('invalid-parameters', `${field} must be an integer from ${min} to ${max}`);
  }
  return number;
}

function urls(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new CeremonyRefused('invalid-parameters', `${field} must be a list of URLs`);
  return value.map((entry) => {
    const url = text(entry, field);
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new CeremonyRefused('invalid-parameters', `${field}: "${url}" is not an http(s) URL`);
    return url;
  });
}

function oids(value: unknown): string[] {
  if (!Array.isArray(value)) throw new CeremonyRefused('invalid-parameters', 'policyOids must be a list of OIDs');
  return value.map((entry) => {
    const oid = text(entry, 'policyOids');
    if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(oid)) throw new CeremonyRefused('invalid-parameters', `policy "${oid}" is not a dotted OID`);
    return oid;
  });
}

function base64Der(value: unknown, field: string): string {
  const encoded = text(value, field);
  const der = Buffer.from(encoded, 'base64');
  if (der.length < 2 || der[0] !== 0x30 || der.toString('base64') !== encoded) {
    throw new CeremonyRefused('invalid-parameters', `${field} must be a DER certificate in base64`);
  }
  return encoded;
}
