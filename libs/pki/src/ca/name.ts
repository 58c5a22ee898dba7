/**
 * Distinguished names (RFC 5280 §4.1.2.4), encoded here so that the bytes
 * are predictable: one attribute per RDN, in the order given.
 */
import { OID } from '../oids';
import { derObjectIdentifier, derSequence, derTlv } from '../signing/der';

/** The attribute types a CA name in this service uses. */
export type CaNameAttributeType = 'C' | 'O' | 'OU' | 'CN' | 'serialNumber';

export interface CaNameAttribute {
  type: CaNameAttributeType;
  value: string;
}

/** A DN as an ordered list of single-attribute RDNs, e.g. `[{type:'C',value:'TW'},{type:'O',value:'行政院'},{type:'CN',value:'...'}]`. */
export type CaDistinguishedName = readonly CaNameAttribute[];

const ATTRIBUTE_OIDS: Record<CaNameAttributeType, string> = {
  C: OID.countryName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
  CN: OID.commonName,
  serialNumber: OID.serialNumber,
};

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * DER Name. countryName and serialNumber are PrintableString (X.520; RFC 5280
 * Appendix A.1); the others are UTF8String (RFC 5280 §4.1.2.6: new
 * certificates use UTF8String), so Chinese names need no special handling.
 */
export function encodeDistinguishedName(name: CaDistinguishedName): Uint8Array {
  if (name.length === 0) throw new RangeError('a CA name must not be empty (RFC 5280 §4.1.2.6)');
  return derSequence(
    ...name.map((attribute) => {
      const { type, value } = attribute;
      if (!(type in ATTRIBUTE_OIDS)) throw new RangeError(`unsupported name attribute ${String(type)}`);
      if (value.length === 0) throw new RangeError(`name attribute ${type} is empty`);
      let encoded: Uint8Array;
      if (type === 'C' || type === 'serialNumber') {
        if (type === 'C' && !/^[A-Z]{2}$/.test(value)) throw new RangeError(`countryName "${value}" is not ISO 3166 alpha-2`);
        if (!PRINTABLE.test(value)) throw new RangeError(`${type} "${value}" is not a PrintableString`);
        encoded = derTlv(0x13, new TextEncoder().encode(value));
      } else {
        if (value.length > 64) throw new RangeError(`${type} is longer than 64 characters (RFC 5280 Appendix A.1)`);
        encoded = derTlv(0x0c, new TextEncoder().encode(value));
      }
      return derTlv(0x31, derSequence(derObjectIdentifier(ATTRIBUTE_OIDS[type]), encoded));
    }),
  );
}
