import { Inject, Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';

export interface HolderRow {
  id: string;
  holder_number: string;
  name: string;
  national_id_last4: string;
  date_of_birth: string;
  mobile: string;
  contact_email: string;
  publication_consent: boolean;
  user_code_hash: string;
  user_code_failures: number;
  user_code_locked_until: Date | null;
}

/** SQL of holders and cards. */
@Injectable()
export class HolderRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async findByNationalIdHash(hmac: Buffer, manager?: EntityManager): Promise<HolderRow | undefined> {
    const rows: HolderRow[] = await (manager ?? this.dataSource).query(
      `SELECT id, holder_number, name, national_id_last4, to_char(date_of_birth, 'YYYY-MM-DD') AS date_of_birth, mobile,
              contact_email, publication_consent, user_code_hash, user_code_failures, user_code_locked_until
         FROM holder WHERE national_id_hmac = $1 ${manager ? 'FOR NO KEY UPDATE' : ''}`,
      [hmac],
    );
    return rows[0];
  }

  async cardNumberTaken(cardNumber: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM card WHERE card_number = $1`, [cardNumber]);
    return rows.length > 0;
  }

  /** A fresh random 16-digit holder number (never derived from the national ID). */
  async newHolderNumber(): Promise<string> {
    for (;;) {
      const candidate = String(randomInt(1, 10)) + Array.from({ length: 15 }, () => randomInt(0, 10)).join('');
      const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM holder WHERE holder_number = $1`, [candidate]);
      if (rows.length === 0) return candidate;
    }
  }
}
