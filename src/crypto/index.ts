// Encryption of stored credentials: the key (IGNY8_SECRET_KEY or the embedded database's key
// file) and the AES-256-GCM envelope. Domain, repair and migration code import from here.
export { decryptSecret, encryptSecret, isEnvelope, keyFingerprint, type Envelope } from './envelope.js';
export { assertDatabaseKey, claimDatabaseKey, keyState, KEY_REGISTRY_TABLE, type KeyState } from './key-registry.js';
export {
  findSecretKey,
  loadSecretKey,
  parseSecretKey,
  replaceSecretKeyFile,
  secretKeyFile,
  SECRET_KEY_BYTES,
  SECRET_KEY_ENV,
  SECRET_KEY_FILE_ENV,
  type LoadedSecretKey,
  type LoadSecretKeyOptions,
} from './secret-key.js';
