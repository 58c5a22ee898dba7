/**
 * The key-ceremony command line (`npm run key-ceremony -- <command>`),
 * documented in docs/key-ceremony.md, "CLI". Reads its configuration from the
 * environment, authenticates the operator from a token file or
 * MOICA_OPERATOR_TOKEN (never a command-line argument), and prints what
 * happened. Exit status: 0 done, 1 error, 2 refused, 64 usage.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { parseCertificate, pemToDer } from '@moica/pki';
import { parseFakeClock } from '../../libs/platform/src/clock';
import {
  approveOperation,
  CeremonyContext,
  executeOperation,
  KeyOperationRequest,
  listRequests,
  parseQuorum,
  rejectOperation,
  RequestState,
  requestOperation,
  showRequest,
} from './approvals';
import { CeremonyRefused } from './ceremony-errors';
import { CeremonySecrets } from './ceremony-keys';
import { auditKeyListing, ceremonyRunner, KeyInventory, listKeys, precheckRequest } from './ceremony-operations';
import { formatDistinguishedName, isCeremonyOperation } from './ceremony-parameters';
import { authenticateOperator, Operator } from './operators';

export const USAGE = `Usage: npm run key-ceremony -- <command> [options]

Operations that create or use a CA key need M-of-N approval (KEY_CEREMONY_QUORUM, default 2):
  request create-root   --name N --subject DN --key-location LOC --algorithm ALG --validity-years Y
  request create-issuing --name N --subject DN --key-location LOC --algorithm ALG --validity-years Y
                        --parent local:<root CA name>|external
                        [--crl-url URL]... [--ocsp-url URL]... [--ca-issuers-url URL]... [--policy OID]...
  request import-parent-certificate --name N --certificate FILE --parent-certificate FILE
  request rotate-ocsp-signer --ca N --key-location LOC --algorithm ALG [--validity-days D] [--subject DN]
  request create-card-unlock-master-key --version V --key-location LOC
                        a card unlock master key (AES-256; version 1 creates, later versions rotate)
  approve <id> [--digest HEX]      approve a request (another operator than the requester)
  reject <id> --reason TEXT        reject a pending or approved request (final)
  execute <id> [--out-dir DIR]     run an approved request once (one of its approvers)

Read-only:
  show <id>                        a request, its parameters and their digest
  requests [--state STATE]         requests, newest first
  list-keys [--key-location LOC]...  CAs, OCSP signers and the keys of their PKCS#11 tokens (audited)

Common options:
  --operator-token-file FILE       the operator's API token (or MOICA_OPERATOR_TOKEN); never on the command line
  --json                           print JSON

ALG: RSA-2048 | RSA-3072 | RSA-4096 | EC-P-256 | EC-P-384
LOC: software:<path> | pkcs11:token=<label>;object=<key label>?module-path=<module>[&pin-source=file:<path>]
Environment: DATABASE_URL (required), KEY_CEREMONY_QUORUM, PKCS11_PIN, SOFTWARE_KEY_PASSPHRASE, SOFTHSM2_CONF
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The working directory: default output directory and base of relative paths. */
  cwd: string;
}

class UsageError extends Error {}

const OPTIONS = {
  'operator-token-file': { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  subject: { type: 'string' },
  'key-location': { type: 'string', multiple: true },
  algorithm: { type: 'string' },
  'validity-years': { type: 'string' },
  'validity-days': { type: 'string' },
  parent: { type: 'string' },
  'crl-url': { type: 'string', multiple: true },
  'ocsp-url': { type: 'string', multiple: true },
  'ca-issuers-url': { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
  certificate: { type: 'string' },
  'parent-certificate': { type: 'string' },
  ca: { type: 'string' },
  digest: { type: 'string' },
  reason: { type: 'string' },
  'out-dir': { type: 'string' },
  state: { type: 'string' },
  version: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one command; returns the exit status. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let pool: Pool | undefined;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    const [command, argument] = positionals;
    if (values.help || !command) {
      io.out(USAGE);
      return command || values.help ? 0 : 64;
    }
    if (!env.DATABASE_URL) throw new UsageError('DATABASE_URL is not set: say which PostgreSQL holds the CA');
    const now = clockFrom(env);
    const secrets: CeremonySecrets = { softwareKeyPassphrase: env.SOFTWARE_KEY_PASSPHRASE, pkcs11Pin: env.PKCS11_PIN };
    pool = new Pool({ connectionString: env.DATABASE_URL, max: 4, application_name: 'moica-key-ceremony' });
    const ctx: CeremonyContext = { pool, now, quorum: parseQuorum(env.KEY_CEREMONY_QUORUM) };
    const print = (human: string, data: unknown) => io.out(values.json ? JSON.stringify(data, null, 2) : human);
    const operator = async (): Promise<Operator> => authenticateOperator(pool as Pool, readToken(values['operator-token-file'], env, io), now());
    const idArgument = () => {
      if (!argument) throw new UsageError(`${command} needs a request id`);
      return argument;
    };

    switch (command) {
      case 'request': {
        if (!argument || !isCeremonyOperation(argument)) {
          throw new UsageError('request needs an operation: create-root, create-issuing, import-parent-certificate, rotate-ocsp-signer, create-card-unlock-master-key');
        }
        const parameters = requestParameters(argument, values, io);
        const request = await requestOperation(ctx, await operator(), argument, parameters, precheckRequest);
        print(describeRequest(request, 'requested'), request);
        return 0;
      }
      case 'approve': {
        const request = await approveOperation(ctx, await operator(), idArgument(), values.digest);
        print(describeRequest(request, 'approved'), request);
        return 0;
      }
      case 'reject': {
        if (!values.reason) throw new UsageError('reject needs --reason');
        const request = await rejectOperation(ctx, await operator(), idArgument(), values.reason);
        print(describeRequest(request, 'rejected'), request);
        return 0;
      }
      case 'execute': {
        const outDir = resolve(io.cwd, values['out-dir'] ?? '.');
        const request = await executeOperation(ctx, await operator(), idArgument(), ceremonyRunner({ secrets, outDir }));
        // jsonb keeps no key order: the result is printed sorted.
        print(`${describeRequest(request, 'executed')}\nresult:\n${indent(request.result ?? {}, true)}`, request);
        return 0;
      }
      case 'show': {
        const request = await showRequest(pool, idArgument());
        print(describeRequest(request), request);
        return 0;
      }
      case 'requests': {
        const state = values.state as RequestState | undefined;
        if (state && !['pending', 'approved', 'rejected', 'executed'].includes(state)) {
          throw new UsageError('--state is pending, approved, rejected or executed');
        }
        const requests = await listRequests(pool, state);
        print(
          requests.length
            ? requests
                .map((r) => `${r.id}  ${r.state.padEnd(8)}  ${r.operation.padEnd(25)}  ${r.approvals.length}/${r.required}  ${r.createdAt.toISOString()}`)
                .join('\n')
            : 'no requests',
          requests,
        );
        return 0;
      }
      case 'list-keys': {
        const who = await operator();
        const inventory = await listKeys(pool, secrets, values['key-location'] ?? []);
        await auditKeyListing(pool, who, now(), inventory);
        print(describeInventory(inventory), inventory);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`key-ceremony: ${error.message}\n\n${USAGE}`);
      return 64;
    }
    if (error instanceof CeremonyRefused) {
      io.err(`key-ceremony: refused (${error.code}): ${error.message}`);
      return 2;
    }
    io.err(`key-ceremony: ${describeError(error)}`);
    return 1;
  } finally {
    await pool?.end();
  }
}

function clockFrom(env: Record<string, string | undefined>): () => Date {
  if (env.FAKE_CLOCK === undefined) return () => new Date();
  if (env.NODE_ENV === 'production') throw new UsageError('FAKE_CLOCK is refused when NODE_ENV=production');
  const clock = parseFakeClock(env.FAKE_CLOCK);
  if (!clock) throw new UsageError('FAKE_CLOCK must be an ISO 8601 instant with a zone or an offset such as +30d');
  return () => clock.now();
}

function readToken(file: string | undefined, env: Record<string, string | undefined>, io: CliIo): string {
  if (file) {
    try {
      return readFileSync(resolve(io.cwd, file), 'utf8').trim();
    } catch {
      throw new CeremonyRefused('unauthenticated', `cannot read the operator token file ${file}`);
    }
  }
  if (env.MOICA_OPERATOR_TOKEN) return env.MOICA_OPERATOR_TOKEN.trim();
  throw new CeremonyRefused('unauthenticated', 'no operator token: give --operator-token-file <file> or set MOICA_OPERATOR_TOKEN');
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** The parameters of a request, from the options. Validation proper happens in validateParameters. */
function requestParameters(operation: string, values: Values, io: CliIo): Record<string, unknown> {
  const single = (name: 'key-location') => {
    const given = values[name] ?? [];
    if (given.length > 1) throw new UsageError(`--${name} is given more than once`);
    return given[0];
  };
  switch (operation) {
    case 'create-root':
      return { name: values.name, subject: values.subject, keyLocation: single('key-location'), keyAlgorithm: values.algorithm, validityYears: values['validity-years'] };
    case 'create-issuing':
      return {
        name: values.name,
        subject: values.subject,
        keyLocation: single('key-location'),
        keyAlgorithm: values.algorithm,
        validityYears: values['validity-years'],
        parent: values.parent,
        crlUrls: values['crl-url'],
        ocspUrls: values['ocsp-url'],
        caIssuersUrls: values['ca-issuers-url'],
        policyOids: values.policy,
      };
    case 'import-parent-certificate': {
      if (!values.certificate || !values['parent-certificate']) {
        throw new UsageError('import-parent-certificate needs --certificate FILE and --parent-certificate FILE');
      }
      return {
        name: values.name,
        certificate: readCertificate(values.certificate, io),
        parentCertificate: readCertificate(values['parent-certificate'], io),
      };
    }
    case 'rotate-ocsp-signer':
      return {
        ca: values.ca,
        // RFC 6960 §4.2.2.2: the responder is named for the CA it answers for.
        subject: values.subject ?? (values.ca ? formatDistinguishedName([{ type: 'C', value: 'TW' }, { type: 'CN', value: `${values.ca} OCSP Responder` }]) : undefined),
        keyLocation: single('key-location'),
        keyAlgorithm: values.algorithm,
        validityDays: values['validity-days'],
      };
    case 'create-card-unlock-master-key':
      return { version: values.version, keyLocation: single('key-location') };
    default:
      throw new UsageError(`unknown operation ${operation}`);
  }
}

/** A certificate file, PEM or DER, as base64 DER. */
function readCertificate(file: string, io: CliIo): string {
  let content: Buffer;
  try {
    content = readFileSync(resolve(io.cwd, file));
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const text = content.toString('latin1');
  const der = text.includes('-----BEGIN CERTIFICATE-----') ? pemToDer(text, 'CERTIFICATE') : new Uint8Array(content);
  try {
    parseCertificate(der);
  } catch {
    throw new CeremonyRefused('invalid-parameters', `${file} is not a certificate (PEM or DER)`);
  }
  return Buffer.from(der).toString('base64');
}

function describeRequest(request: KeyOperationRequest, verb?: string): string {
  const lines = [
    `${verb ? `${verb}: ` : ''}request ${request.id}`,
    `operation: ${request.operation}`,
    `state: ${request.state} (${request.approvals.length} of ${request.required} approvals)`,
    `requested by: ${request.requestedBy} at ${request.createdAt.toISOString()}`,
    `approvals: ${request.approvals.map((a) => `${a.name} (${a.operator}) at ${a.at}`).join('; ')}`,
    `parameters digest: ${request.parametersDigest}`,
    `parameters:\n${indent(shownParameters(request.parameters))}`,
  ];
  if (request.executedAt) lines.push(`executed by: ${request.executedBy} at ${request.executedAt.toISOString()}`);
  return lines.join('\n');
}

function shownParameters(parameters: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...parameters };
  if (Array.isArray(shown.subject)) shown.subject = formatDistinguishedName(shown.subject as never);
  for (const field of ['certificate', 'parentCertificate']) {
    if (typeof shown[field] === 'string') {
      try {
        const parsed = parseCertificate(Buffer.from(shown[field] as string, 'base64'));
        shown[field] = `${parsed.subjectText}, serial ${parsed.serialNumberHex}`;
      } catch {
        shown[field] = '(not a certificate)';
      }
    }
  }
  return shown;
}

function describeInventory(inventory: KeyInventory): string {
  const lines = ['certificate authorities:'];
  for (const ca of inventory.certificateAuthorities) {
    lines.push(
      `  ${ca.name} (${ca.role}${ca.active ? '' : ', inactive'}${ca.development ? ', DEVELOPMENT' : ''}) ${ca.subject}`,
      `    serial ${ca.serial}, until ${ca.notAfter}, ${ca.keyAlgorithm} at ${ca.keyLocation}`,
    );
  }
  if (inventory.pendingParentCertificates.length) lines.push('waiting for the parent certificate:');
  for (const pending of inventory.pendingParentCertificates) {
    lines.push(`  ${pending.name} ${pending.subject}, ${pending.keyAlgorithm} at ${pending.keyLocation}, since ${pending.createdAt}`);
  }
  lines.push('OCSP signers:');
  for (const signer of inventory.ocspSigners) {
    lines.push(`  ${signer.ca}${signer.active ? '' : ' (inactive)'}: serial ${signer.serial}, until ${signer.notAfter}, ${signer.keyAlgorithm} at ${signer.keyLocation}`);
  }
  if (inventory.cardUnlockMasterKeys.length) lines.push('card unlock master keys:');
  for (const key of inventory.cardUnlockMasterKeys) {
    lines.push(`  version ${key.version}${key.active ? ' (active)' : ''}${key.development ? ' DEVELOPMENT' : ''}: AES-256 at ${key.keyLocation}, since ${key.createdAt}`);
  }
  for (const token of inventory.tokens) {
    lines.push(`PKCS#11 token ${token.tokenLabel} (${token.modulePath}):`);
    if (token.problem) lines.push(`  not listed: ${token.problem}`);
    for (const key of token.keys ?? []) {
      const algorithm = key.keyAlgorithm ? (key.keyAlgorithm.kind === 'RSA' ? `RSA-${key.keyAlgorithm.modulusBits}` : `EC-${key.keyAlgorithm.curve}`) : `unsupported (${key.unsupportedReason})`;
      const flags = [key.sensitive ? 'sensitive' : 'NOT sensitive', key.extractable ? 'EXTRACTABLE' : 'non-extractable', key.neverExtractable && key.alwaysSensitive ? 'generated in the token' : 'was outside the token'];
      lines.push(`  ${key.label} id ${key.id} ${algorithm}, ${flags.join(', ')}: ${key.usedBy.length ? key.usedBy.join('; ') : 'not used by any CA or OCSP signer'}`);
    }
  }
  return lines.join('\n');
}

function indent(value: Record<string, unknown>, sorted = false): string {
  const entries = Object.entries(value);
  if (sorted) entries.sort(([a], [b]) => a.localeCompare(b));
  return entries
    .map(([key, v]) => `  ${key}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error && !error.message.includes(error.cause.message) ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
