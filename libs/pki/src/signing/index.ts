export * from './signer';
export * from './software-signer';
export * from './signed-structure';
export * from './pkcs11-signer';
export * from './softhsm-token';
export * from './key-location';
