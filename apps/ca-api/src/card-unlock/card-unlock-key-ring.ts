import { HttpStatus, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import { CardKeyDerivation, openCardKeyDerivation, parseKeyLocation } from '@moica/pki';
import { AppConfig, ProblemException } from '@moica/platform';
import { APP_CONFIG } from '../tokens';

/**
 * The card unlock master keys this process uses, by version, opened from the
 * key locations the key ceremony recorded (card_unlock_master_key) with the
 * secrets of the configuration. Opened on first use, not at boot: a version
 * created by the ceremony through the operator API is usable without a
 * restart. A key that fails to open is retried on the next request.
 */
@Injectable()
export class CardUnlockKeyRing implements OnModuleDestroy {
  private readonly opened = new Map<number, Promise<CardKeyDerivation>>();
  private readonly logger = new Logger('CardUnlockKeyRing');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The derivation under master key `version`; a problem when the version is unknown or its key cannot be opened. */
  async forVersion(version: number): Promise<CardKeyDerivation> {
    let derivation = this.opened.get(version);
    if (!derivation) {
      const rows: Array<{ key_location: string }> = await this.dataSource.query(`SELECT key_location FROM card_unlock_master_key WHERE version = $1`, [version]);
      if (rows.length === 0) {
        throw new ProblemException('card-unlock-key-unavailable', HttpStatus.CONFLICT, 'No unlock key for this card', `no card unlock master key of version ${version} exists`);
      }
      derivation = this.open(rows[0].key_location);
      this.opened.set(version, derivation);
      derivation.catch(() => this.opened.delete(version));
    }
    try {
      return await derivation;
    } catch (cause) {
      // The message names the key location, never a secret (CardKeyError, SigningError).
      this.logger.error(`card unlock master key ${version}: ${cause instanceof Error ? cause.message : String(cause)}`);
      throw new ProblemException('card-key-store-unavailable', HttpStatus.SERVICE_UNAVAILABLE, 'Card key store unavailable', `the card unlock master key of version ${version} cannot be opened`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    const all = [...this.opened.values()];
    this.opened.clear();
    await Promise.allSettled(all.map(async (derivation) => (await derivation).close()));
  }

  private open(masterLocation: string): Promise<CardKeyDerivation> {
    // The transport key goes with master keys of its own kind only (see openCardKeyDerivation).
    const transport = this.config.CARD_BUREAU_TRANSPORT_KEY;
    const sameKind = transport !== undefined && parseKeyLocation(transport).kind === parseKeyLocation(masterLocation).kind;
    return openCardKeyDerivation(
      masterLocation,
      sameKind ? transport : undefined,
      { passphrase: this.config.SOFTWARE_KEY_PASSPHRASE, pin: this.config.PKCS11_PIN },
      (path) => readFile(path, 'utf8'),
    );
  }
}
