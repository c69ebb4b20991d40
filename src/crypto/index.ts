// Encryption of stored credentials: the key (IGNY8_SECRET_KEY or the embedded database's key
// file) and the AES-256-GCM envelope. Domain, repair and migration code import from here.
export { decryptSecret, encryptSecret, isEnvelope, type Envelope } from './envelope.js';
export {
  loadSecretKey,
  parseSecretKey,
  secretKeyFile,
  SECRET_KEY_BYTES,
  SECRET_KEY_ENV,
  SECRET_KEY_FILE_ENV,
  type LoadedSecretKey,
  type LoadSecretKeyOptions,
} from './secret-key.js';
