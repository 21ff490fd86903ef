package cache

// LockPath exposes lockPath to the tests: the lock file of the entry at path.
var LockPath = lockPath

// Waiting returns the number of callers waiting for the running computation
// of the entry at path of s, so that a test can let the computation end once
// they all wait.
func Waiting(s *Store, key string) int {
	path, err := s.Path(key)
	if err != nil {
		return 0
	}
	flights.mu.Lock()
	defer flights.mu.Unlock()
	if c, ok := flights.calls[s.entryID(path)]; ok {
		return int(c.waiters.Load())
	}
	return 0
}
