import { plainToInstance } from 'class-transformer';
import {
  IsBase64,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { Clock, parseFakeClock, SystemClock } from './clock';

/**
 * The environment of every process, checked at boot (immich's model: a DTO
 * and validateSync). A bad or missing variable stops the process with a
 * message that names it; nothing starts half-configured.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL!: string;

  /** Optional read replica for the OCSP responder and CRL downloads. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_READ_URL must be a postgres:// URL' })
  DATABASE_READ_URL?: string;

  @IsString()
  HOST: string = '127.0.0.1';

  @IsInt()
  @Min(1)
  @Max(65535)
  CA_API_PORT: number = 3000;

  @IsInt()
  @Min(1)
  @Max(65535)
  OCSP_PORT: number = 3001;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** Base URL that relying parties use for OCSP, CRLs and CA certificates (written into certificates). */
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  PUBLIC_BASE_URL: string = 'http://127.0.0.1:3001';

  /** Passphrase of software (PKCS#8) CA keys. Required when any key location is software:. */
  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'SOFTWARE_KEY_PASSPHRASE must have at least 8 characters' })
  SOFTWARE_KEY_PASSPHRASE?: string;

  /** PIN of the PKCS#11 token(s). Required when any key location is pkcs11:. */
  @IsOptional()
  @IsString()
  PKCS11_PIN?: string;

  /** AES-256-GCM key (base64, 32 bytes) for national ID numbers at rest. */
  @IsBase64({}, { message: 'PII_ENCRYPTION_KEY must be base64 of 32 random bytes' })
  PII_ENCRYPTION_KEY!: string;

  /** HMAC-SHA-256 key (base64, at least 32 bytes) for national ID look-ups. */
  @IsBase64({}, { message: 'PII_HMAC_KEY must be base64 of at least 32 random bytes' })
  PII_HMAC_KEY!: string;

  /** Validity of pre-signed OCSP responses in hours (nextUpdate - thisUpdate); refreshed before half of it (RFC 5019 §6.2). */
  @IsInt()
  @Min(1)
  @Max(168)
  OCSP_RESPONSE_VALIDITY_HOURS: number = 24;

  /** Most CertIDs the OCSP responder answers in one request; more is malformedRequest (docs/ocsp.md). */
  @IsInt()
  @Min(1)
  @Max(64)
  OCSP_MAX_CERT_IDS: number = 8;

  /** Live OCSP signatures per second per responder instance (nonces, unknown serials, several CertIDs); the rest is served pre-signed or tryLater. */
  @IsInt()
  @Min(1)
  @Max(100000)
  OCSP_LIVE_SIGNATURES_PER_SECOND: number = 200;

  /**
   * Memory for the OCSP responder's in-memory response cache, in MiB: a cap,
   * not a reservation (slabs are allocated as responses arrive). The default
   * holds 10,000,000 responses of the development hierarchy (docs/ocsp.md).
   */
  @IsInt()
  @Min(16)
  @Max(65536)
  OCSP_CACHE_MAX_MB: number = 5120;

  /**
   * scrypt cost of user-code hashes, as log2(N) with r=8, p=1: 17 (128 MiB,
   * OWASP's minimum) by default; tests lower it. Refused below 14.
   */
  @IsInt()
  @Min(14, { message: 'USER_CODE_SCRYPT_LOG2N must be at least 14 (production: 17)' })
  @Max(20)
  USER_CODE_SCRYPT_LOG2N: number = 17;

  /**
   * SMTP server for notices to holders (nodemailer URL: smtp://user:pass@host:587, smtps://...:465).
   * Required by the worker in production; in development, e-mail notices wait (pending) until it is set.
   */
  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** From header of notices, e.g. "內政部憑證管理中心 MOICA" <noreply@example.gov.tw>. Required with SMTP_URL. */
  @IsOptional()
  @Matches(/^[^\r\n]*<?[^\s@<>]+@[^\s@<>]+>?$/, { message: 'SMTP_FROM must be an address, optionally with a display name' })
  SMTP_FROM?: string;

  /** HTTP SMS gateway send URL (Mitake-style form POST). Required by the worker in production. */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'SMS_GATEWAY_URL must be an http(s) URL' })
  SMS_GATEWAY_URL?: string;

  /** Account of the SMS gateway. Required with SMS_GATEWAY_URL. */
  @IsOptional()
  @IsString()
  SMS_GATEWAY_USERNAME?: string;

  /** Password of the SMS gateway account. Required with SMS_GATEWAY_URL. */
  @IsOptional()
  @IsString()
  SMS_GATEWAY_PASSWORD?: string;

  /** Delivery attempts of a notice before it is recorded as failed (exponential backoff between them). */
  @IsInt()
  @Min(1)
  @Max(25)
  NOTICE_MAX_ATTEMPTS: number = 10;

  /** Approvals (counting the requester) that a key operation needs: at least 2 (docs/key-ceremony.md). */
  @IsInt()
  @Min(2, { message: 'KEY_CEREMONY_QUORUM must be at least 2: one operator alone never creates or uses a CA key' })
  KEY_CEREMONY_QUORUM: number = 2;

  /**
   * Key location of the card bureau's transport key (docs/card-unlock.md):
   * per-card unblock keys are exported only wrapped under it (RFC 3394). Of
   * the same kind as the card master keys (software: file, or pkcs11: on the
   * same token). Unset: the bureau export answers 503.
   */
  @IsOptional()
  @IsString()
  @Matches(/^(software|pkcs11):/, { message: 'CARD_BUREAU_TRANSPORT_KEY must be a software: or pkcs11: key location' })
  CARD_BUREAU_TRANSPORT_KEY?: string;

  /**
   * ECPay (綠界) All-In-One payment merchant for online re-issuance
   * (docs/reissuance.md). The defaults are ECPay's published stage test
   * merchant, for development only: ca-api refuses them at boot in production
   * (apps/ca-api/src/reissuance/payment/payment-gateway-from-config.ts).
   */
  @Matches(/^\d{7,10}$/, { message: 'ECPAY_MERCHANT_ID must be the 7-10 digit ECPay MerchantID' })
  ECPAY_MERCHANT_ID: string = '3002607';

  @IsString()
  @Matches(/^[A-Za-z0-9]{16}$/, { message: 'ECPAY_HASH_KEY must be the 16-character ECPay HashKey' })
  ECPAY_HASH_KEY: string = 'pwFHCqoQZGmho4w6';

  @IsString()
  @Matches(/^[A-Za-z0-9]{16}$/, { message: 'ECPAY_HASH_IV must be the 16-character ECPay HashIV' })
  ECPAY_HASH_IV: string = 'EkRm7iFT261dpevs';

  /** AioCheckOut/V5 URL the holder's browser posts the order to (the local simulator's in development and tests). */
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'ECPAY_CHECKOUT_URL must be an http(s) URL' })
  ECPAY_CHECKOUT_URL: string = 'https://payment-stage.ecpay.com.tw/Cashier/AioCheckOut/V5';

  /** Public base URL of ca-api that ECPay posts payment notifications to (ReturnURL, PaymentInfoURL). */
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'PAYMENT_NOTIFY_BASE_URL must be an http(s) URL' })
  PAYMENT_NOTIFY_BASE_URL: string = 'http://127.0.0.1:3000';

  /** Public holidays for delivery estimates, Taiwan dates YYYY-MM-DD, comma-separated (行政院人事行政總處 calendar). */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*$/, { message: 'REISSUANCE_HOLIDAYS must be YYYY-MM-DD dates separated by commas' })
  REISSUANCE_HOLIDAYS?: string;

  /** Make-up working days (補班, usually Saturdays) for delivery estimates, YYYY-MM-DD, comma-separated. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*$/, { message: 'REISSUANCE_MAKEUP_WORKDAYS must be YYYY-MM-DD dates separated by commas' })
  REISSUANCE_MAKEUP_WORKDAYS?: string;

  /**
   * Test-only fault injection: `stall-after-record=<seconds>` makes issuance
   * wait after recording the to-be-signed certificates, so a test can kill
   * the process there. Refused in production.
   */
  @IsOptional()
  @Matches(/^stall-after-record=\d{1,3}$/, { message: 'FAULT_INJECTION must be stall-after-record=<seconds>' })
  FAULT_INJECTION?: string;

  /** Fixed ("2031-01-15T00:00:00Z") or offset ("+30d") clock for tests and demos; refused in production. */
  @IsOptional()
  @IsString()
  FAKE_CLOCK?: string;
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigurationError';
  }
}

/** Validated configuration plus the derived values every app needs. */
export interface AppConfig extends EnvironmentVariables {
  clock: Clock;
  piiEncryptionKey: Buffer;
  piiHmacKey: Buffer;
}

/** Reads and checks the environment. Throws ConfigurationError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const defined = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const vars = plainToInstance(EnvironmentVariables, defined, { enableImplicitConversion: true });
  const problems = validateSync(vars, { skipMissingProperties: false, whitelist: false }).flatMap(describe);

  const piiEncryptionKey = Buffer.from(vars.PII_ENCRYPTION_KEY ?? '', 'base64');
  if (vars.PII_ENCRYPTION_KEY && piiEncryptionKey.length !== 32) {
    problems.push(`PII_ENCRYPTION_KEY must decode to exactly 32 bytes (got ${piiEncryptionKey.length})`);
  }
  const piiHmacKey = Buffer.from(vars.PII_HMAC_KEY ?? '', 'base64');
  if (vars.PII_HMAC_KEY && piiHmacKey.length < 32) {
    problems.push(`PII_HMAC_KEY must decode to at least 32 bytes (got ${piiHmacKey.length})`);
  }
  if (vars.PII_HMAC_KEY && vars.PII_ENCRYPTION_KEY && vars.PII_HMAC_KEY === vars.PII_ENCRYPTION_KEY) {
    problems.push('PII_HMAC_KEY must differ from PII_ENCRYPTION_KEY');
  }

  let clock: Clock = new SystemClock();
  if (vars.FAKE_CLOCK !== undefined) {
    const fake = parseFakeClock(vars.FAKE_CLOCK);
    if (!fake) problems.push('FAKE_CLOCK must be an ISO 8601 instant with a zone (2031-01-15T00:00:00Z) or an offset (+30d)');
    else if (vars.NODE_ENV === 'production') problems.push('FAKE_CLOCK is refused when NODE_ENV=production');
    else clock = fake;
  }

  if (vars.FAULT_INJECTION && vars.NODE_ENV === 'production') problems.push('FAULT_INJECTION is refused when NODE_ENV=production');

  if (problems.length > 0) throw new ConfigurationError(problems);
  return Object.assign(vars, { clock, piiEncryptionKey, piiHmacKey });
}

function describe(error: ValidationError): string[] {
  const own = Object.values(error.constraints ?? {}).map((message) =>
    message.startsWith(error.property) ? message : `${error.property}: ${message}`,
  );
  return [...own, ...(error.children ?? []).flatMap(describe)];
}
