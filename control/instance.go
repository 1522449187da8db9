package control

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"go.etcd.io/bbolt"
)

// keyInstanceID is the key of the instance id in bucketSettings.
var keyInstanceID = []byte("instance_id")

// ensureInstanceID gives the data directory its persistent id the first
// time the store is opened: 16 random bytes in hex.
func ensureInstanceID(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketSettings)
	if len(b.Get(keyInstanceID)) > 0 {
		return nil
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("generating the instance id: %w", err)
	}
	return b.Put(keyInstanceID, []byte(hex.EncodeToString(raw[:])))
}

// InstanceID returns the persistent id of the data directory, created
// when the store was first opened. Snapshots record it as their source.
func (t *Tx) InstanceID() string {
	return string(t.tx.Bucket(bucketSettings).Get(keyInstanceID))
}

// InstanceID returns the persistent id of the data directory (see
// Tx.InstanceID).
func (s *Store) InstanceID() (string, error) {
	var id string
	err := s.View(func(tx *Tx) error {
		id = tx.InstanceID()
		return nil
	})
	return id, err
}
