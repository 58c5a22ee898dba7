export * from './aes-cmac';
export * from './aes-key-wrap';
export * from './sp800-108-kdf';
export * from './card-unblock-protocol';
export * from './card-key-derivation';
export * from './pkcs11-card-key-derivation';
export * from './software-aes-key';
export * from './open-card-key-derivation';
