/**
 * Card unlock responses per second (docs/card-unlock.md): the SP 800-108
 * derivation of the card key (two AES-CMAC PRF calls) plus the response CMAC,
 * with the master key in process memory and in SoftHSM2 (PRF = C_Sign with
 * CKM_AES_CMAC through pkcs11js), the same master key value in both. Runs
 * alternate between the two stores, so each ratio is measured side by side.
 *
 * Run:  npm run build && node_modules/.bin/node dist/bench/pki/card-unlock.js [responses per run] [runs] [concurrency]
 *       (defaults 2000 5 4; needs softhsm2-util)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardKeyDerivation, cardUnblockMessage, newCardChallenge, SoftwareCardKeyDerivation } from '../../libs/pki/src/card-keys';
import { importAesKey, Pkcs11CardKeyDerivation } from '../../libs/pki/src/card-keys/pkcs11-card-key-derivation';
import { Pkcs11Token } from '../../libs/pki/src/signing/pkcs11-signer';
import { createSoftHsmToken, SOFTHSM2_DEFAULT_MODULE } from '../../libs/pki/src/signing/softhsm-token';

async function rate(derivation: CardKeyDerivation, responses: number, concurrency: number): Promise<number> {
  const requests = Array.from({ length: responses }, (_, i) => {
    const card = { cardNumber: `TP${String(i).padStart(13, '0')}`, keyVersion: 1 };
    return { card, message: cardUnblockMessage(card, newCardChallenge()) };
  });
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const { card, message } = requests[next++];
        await derivation.macUnderCardKey(card, message);
      }
    }),
  );
  return responses / (Number(process.hrtime.bigint() - start) / 1e9);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const [responses = 2000, runs = 5, concurrency = 4] = process.argv.slice(2).map(Number);
  const directory = mkdtempSync(join(tmpdir(), 'moica-bench-card-unlock-'));
  try {
    const { configPath } = createSoftHsmToken({ directory, tokenLabel: 'bench', soPin: '12345678', pin: '123456', env: process.env });
    process.env.SOFTHSM2_CONF = configPath;
    const master = randomBytes(32);
    const token = await Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: 'bench', pin: '123456', sessionPoolSize: concurrency });
    await importAesKey(token, 'master', master, 'cmac', Buffer.from('01', 'hex'));
    const hsm = await Pkcs11CardKeyDerivation.open(token, 'master', { acceptImportedKey: true });
    const software = new SoftwareCardKeyDerivation('software', master);
    // Warm-up, and a check that both compute the same response.
    const card = { cardNumber: 'TP0000000000001', keyVersion: 1 };
    const message = cardUnblockMessage(card, newCardChallenge());
    if (!(await hsm.macUnderCardKey(card, message)).equals(await software.macUnderCardKey(card, message))) throw new Error('software and SoftHSM2 differ');
    await rate(software, 200, concurrency);
    await rate(hsm, 200, concurrency);

    const softwareRates: number[] = [];
    const hsmRates: number[] = [];
    for (let run = 1; run <= runs; run++) {
      softwareRates.push(await rate(software, responses, concurrency));
      hsmRates.push(await rate(hsm, responses, concurrency));
      const ratio = hsmRates[run - 1] / softwareRates[run - 1];
      console.log(`run ${run}: software ${softwareRates[run - 1].toFixed(0)}/s, SoftHSM2 ${hsmRates[run - 1].toFixed(0)}/s, ratio ${ratio.toFixed(2)}`);
    }
    const ratios = hsmRates.map((value, i) => value / softwareRates[i]);
    console.log(
      `median of ${runs} runs of ${responses} responses, concurrency ${concurrency}: software ${median(softwareRates).toFixed(0)}/s, ` +
        `SoftHSM2 ${median(hsmRates).toFixed(0)}/s, SoftHSM2/software ${median(ratios).toFixed(2)}`,
    );
    await token.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
