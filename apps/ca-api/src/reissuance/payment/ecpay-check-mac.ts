import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * ECPay (綠界) All-In-One CheckMacValue (developers.ecpay.com.tw 附錄 /
 * 檢查碼機制): every parameter except CheckMacValue, sorted by name A to Z
 * (case-insensitive), joined as `name=value` with `&`, wrapped as
 * `HashKey=...&<params>&HashIV=...`, URL-encoded the way .NET's
 * HttpUtility.UrlEncode does (space as `+`; `-_.!*()` left alone; the
 * "`.NET編碼(ecpay)`" column of ECPay's table), lower-cased, hashed
 * (SHA-256 for EncryptType=1; MD5 in older APIs), upper-cased hex.
 */
export function ecpayCheckMacValue(
  params: Readonly<Record<string, string>>,
  secrets: { hashKey: string; hashIV: string },
  algorithm: 'sha256' | 'md5' = 'sha256',
): string {
  const names = Object.keys(params)
    .filter((name) => name !== 'CheckMacValue')
    .sort((a, b) => {
      const x = a.toLowerCase();
      const y = b.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    });
  const joined = names.map((name) => `${name}=${params[name]}`).join('&');
  const wrapped = `HashKey=${secrets.hashKey}&${joined}&HashIV=${secrets.hashIV}`;
  return createHash(algorithm).update(ecpayUrlEncode(wrapped).toLowerCase(), 'utf8').digest('hex').toUpperCase();
}

/** URL-encodes like .NET HttpUtility.UrlEncode (UTF-8): what ECPay computes its CheckMacValue over. */
export function ecpayUrlEncode(text: string): string {
  // encodeURIComponent already leaves -_.!*() alone; .NET also encodes ' and ~, and writes a space as +.
  return encodeURIComponent(text).replace(/%20/g, '+').replace(/'/g, '%27').replace(/~/g, '%7E');
}

/** Whether `params.CheckMacValue` is the right one, compared in constant time. */
export function hasValidCheckMacValue(params: Readonly<Record<string, string>>, secrets: { hashKey: string; hashIV: string }): boolean {
  const given = params.CheckMacValue;
  if (typeof given !== 'string' || !/^[0-9A-Fa-f]{64}$/.test(given)) return false;
  const expected = ecpayCheckMacValue(params, secrets, 'sha256');
  return timingSafeEqual(Buffer.from(given.toUpperCase(), 'ascii'), Buffer.from(expected, 'ascii'));
}
