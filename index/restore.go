package index

import "fmt"

// ReserveRestore makes sure a restore may install its copy of e now, and
// holds the lock creating e's logical index in e's tenant takes until
// release is called, so no index of that name is created (and written)
// between the check and the install. Unless replace, an e registered now
// is ErrExists: an index created since the restore checked (a write
// that auto-created it, with acknowledged documents) is never replaced.
// A back-end index of that name nobody registered (the leftover of a
// failed restore or create) may be replaced.
func (s *Service) ReserveRestore(e Entry, replace bool) (release func(), err error) {
	mu := s.createLock(e.Owner, e.Logical)
	mu.Lock()
	if _, ok := s.catalog.Entry(e.Physical); ok && !replace {
		mu.Unlock()
		return nil, &Error{Kind: ErrExists, Type: "resource_already_exists_exception", Index: e.Physical,
			Reason: fmt.Sprintf("index [%s] was created while the restore ran; restore with overwrite to replace it", e.Physical)}
	}
	return mu.Unlock, nil
}
