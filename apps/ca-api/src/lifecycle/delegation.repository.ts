import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { NationalIdVault } from '@moica/platform';
import type { DelegationRecord, LifecycleActor } from './lifecycle.service';

/**
 * DOMAIN.md 委託代辦: who acted for the holder at which office, with which
 * form, and whether the holder's card was presented. The delegate's ID
 * number is stored encrypted with a look-up hash, like the holder's.
 */
@Injectable()
export class DelegationRepository {
  constructor(private readonly vault: NationalIdVault) {}

  async record(
    manager: EntityManager,
    entry: { holderId: string; operation: string; delegation: DelegationRecord; actor: LifecycleActor; at: Date },
  ): Promise<string> {
    const id = randomUUID();
    await manager.query(
      `INSERT INTO delegation (id, holder_id, operation, delegate_name, delegate_id_ciphertext, delegate_id_hmac, form_reference,
                               holder_card_presented, staff_id, office_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        entry.holderId,
        entry.operation,
        entry.delegation.delegateName,
        this.vault.encrypt(entry.delegation.delegateNationalId, `delegation:${id}`),
        this.vault.lookupHash(entry.delegation.delegateNationalId),
        entry.delegation.formReference,
        entry.delegation.holderCardPresented,
        entry.actor.id,
        entry.actor.officeId,
        entry.at,
      ],
    );
    return id;
  }
}
