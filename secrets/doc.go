// Package secrets encrypts namespace secrets at rest and masks their
// values in anything tenantgate writes out.
//
// A Key comes from the configuration key secrets.encryption_key through
// ParseKey: "base64:<32 bytes>" or "file:<path>" naming a file that holds
// such a value. Key.Seal encrypts a value with AES-256-GCM under a random
// 12-byte nonce; the result starts with a format version byte. The
// additional data given to Seal and Open (build it with AAD from the
// tenant, namespace and secret key) binds a ciphertext to the place it is
// stored, so a ciphertext copied to another secret does not decrypt. A
// wrong key, a changed byte or a different place all give ErrDecrypt.
//
// Key.Fingerprint is a short HMAC-SHA256 of a fixed label under the key,
// stored beside the secrets so that start-up can tell a wrong key
// (Key.CheckFingerprint returns ErrWrongKey) from corrupt data; it reveals
// nothing about the key.
//
// A Masker replaces every occurrence of the secret values it knows with
// "******" in text bound for logs, outputs and API responses.
//
// Nothing in this package logs, and no error it returns contains key
// material or a secret value.
package secrets
