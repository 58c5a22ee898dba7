export * from './signer';
export * from './software-signer';
