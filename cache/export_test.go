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

// IgnoresCase reports whether s finds that its filesystem ignores case,
// asking with the file or directory path.
func IgnoresCase(s *Store, path string) bool { return s.ignoresCase(path) }

// AssumeIgnoresCase makes the stores of s's directory, in this process,
// check every read as on a filesystem that ignores case: for measuring that
// path on a disk that respects case.
func AssumeIgnoresCase(s *Store) {
	b := true
	caseRoots.Store(s.dirID(s.dir), b)
	s.known.insensitive.Store(&b)
}

// RemoveEmptyDirs exposes removeEmptyDirs to the tests: after the removal of
// the file path of s, it removes the directories that leaves empty.
func RemoveEmptyDirs(s *Store, path string) { s.removeEmptyDirs(path) }
