package index

import (
	"fmt"
	"sync"
)

// ReserveRestore reserves e's physical name for a restore that installs
// its copy of the index and then registers e, until release is called
// (after the restore registered e or gave up and removed what it
// installed). It is refused with ErrExists when another restore holds
// the name, or, unless replace, when e is registered now: an index
// created since the restore checked (a write that auto-created it, with
// acknowledged documents) is never replaced. The check is made under
// the lock creating e's logical index takes. A back-end index of that
// name nobody registered (the leftover of a failed restore or create)
// may be replaced.
func (s *Service) ReserveRestore(e Entry, replace bool) (release func(), err error) {
	mu := s.createLock(e.Owner, e.Logical)
	mu.Lock()
	defer mu.Unlock()
	if _, busy := s.restoring.LoadOrStore(e.Physical, true); busy {
		return nil, &Error{Kind: ErrExists, Type: "resource_already_exists_exception", Index: e.Physical,
			Reason: fmt.Sprintf("index [%s] is being restored by another restore", e.Physical)}
	}
	if _, ok := s.catalog.Entry(e.Physical); ok && !replace {
		s.restoring.Delete(e.Physical)
		return nil, &Error{Kind: ErrExists, Type: "resource_already_exists_exception", Index: e.Physical,
			Reason: fmt.Sprintf("index [%s] was created while the restore ran; restore with overwrite to replace it", e.Physical)}
	}
	return sync.OnceFunc(func() { s.restoring.Delete(e.Physical) }), nil
}
