package secrets

import "errors"

// ErrInvalidKey means ParseKey refused an encryption key: empty, without
// a "base64:" or "file:" prefix, not valid base64, not exactly KeySize
// bytes, or a key file that cannot be read. Errors wrapping it say which;
// they never contain the key or any part of it.
var ErrInvalidKey = errors.New("invalid encryption key")

// ErrNoKey means Seal, Open or a fingerprint was asked of the zero Key,
// which holds no key.
var ErrNoKey = errors.New("no encryption key")

// ErrDecrypt means Open could not decrypt a ciphertext: the key is not the
// one that sealed it, the additional data (the place it is stored) differs,
// or the bytes were truncated or changed. AES-GCM cannot tell these apart;
// compare fingerprints (Key.CheckFingerprint) to tell a wrong key from
// corrupt data.
var ErrDecrypt = errors.New("cannot decrypt secret (wrong key or corrupt data)")

// ErrWrongKey means Key.CheckFingerprint found a stored fingerprint that
// another key made: the secrets were sealed with a different key.
var ErrWrongKey = errors.New("encryption key does not match the one the secrets were sealed with")
