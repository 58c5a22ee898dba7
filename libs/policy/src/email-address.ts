/**
 * The contact e-mail (DOMAIN.md: important notices go there; it may later be
 * written into a certificate as an rfc822Name, an IA5String, RFC 5280
 * §4.2.1.6). Only ASCII addresses are accepted: a dot-atom local part of at
 * most 64 characters and a DNS host name (RFC 5321 §4.5.3.1), at most 254 in
 * all. The domain is lower-cased; the local part is kept as typed.
 */
import { allow, refuse, type Decision } from './decision';

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Checks an e-mail address and returns it with its domain lower-cased. */
export function checkEmailAddress(input: string): Decision<{ email: string }> {
  if (input.trim() === '') return refuse('email-missing', 'The e-mail address is required.');
  const malformed = refuse('email-malformed', 'The e-mail address is not a well-formed address such as name@example.com.tw.');
  if (input.length > 254) return malformed;
  const at = input.lastIndexOf('@');
  const local = input.slice(0, at);
  const domain = input.slice(at + 1).toLowerCase();
  if (at < 1 || local.length > 64 || !LOCAL_PART.test(local)) return malformed;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return malformed;
  if (!/^[a-z]{2,}$/.test(labels[labels.length - 1])) return malformed;
  return allow({ email: `${local}@${domain}` });
}
