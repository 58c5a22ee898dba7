/**
 * Object identifiers used across libs/pki. One place, so a typo cannot make
 * two modules disagree. Add new ones here (keep the groups).
 */
export const OID = {
  // Algorithms (RFC 4055, RFC 5758, RFC 5480)
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',

  // Names (RFC 5280 §4.1.2.4, X.520)
  countryName: '2.5.4.6',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',

  // Certificate extensions (RFC 5280 §4.2)
  subjectDirectoryAttributes: '2.5.29.9',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  cRLReason: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',

  // Access methods and key purposes (RFC 5280 §4.2.2.1, RFC 6960)
  idAdOcsp: '1.3.6.1.5.5.7.48.1',
  idAdCaIssuers: '1.3.6.1.5.5.7.48.2',
  idQtCps: '1.3.6.1.5.5.7.2.1',
  idKpOcspSigning: '1.3.6.1.5.5.7.3.9',
  idPkixOcspBasic: '1.3.6.1.5.5.7.48.1.1',
  idPkixOcspNonce: '1.3.6.1.5.5.7.48.1.2',
  idPkixOcspNocheck: '1.3.6.1.5.5.7.48.1.5',

  // Taiwan GPKI / MOICA (DOMAIN.md, certificate profile)
  gpkiClass3Assurance: '2.16.886.101.0.3.3',
  moicaIdLast4Digits: '2.16.886.1.100.2.51',

  // PKCS#9 (RFC 2985)
  emailAddress: '1.2.840.113549.1.9.1',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;
