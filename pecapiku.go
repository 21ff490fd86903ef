// Package pecapiku runs an expensive step once, keeps its typed result on
// disk, and hands the stored result back on every later run: a dataset
// built, an API called, a corpus parsed, in a test or in a script.
//
// This package holds only documentation; the code is in three packages, each
// importing only the next:
//
//   - [github.com/pecapiku/pecapiku/pecatest]: for tests. Memo(t, "name", fn)
//     records fn's result under testdata/.pecapiku/ and replays it, Golden
//     compares a value with its recording, and the access comes from the
//     -pecapiku.access flag, the PECAPIKU_ACCESS environment variable or CI
//     detection.
//   - [github.com/pecapiku/pecapiku/cache]: the engine, for any program:
//     access letters, codecs (JSON, gob, raw), the Store, Do, the
//     read→execute→write algorithm, and Func, which memoizes a function by
//     its argument.
//   - [github.com/pecapiku/pecapiku/fs]: atomic writes and safe paths over
//     [github.com/spf13/afero].
//
// Beside them, the command github.com/pecapiku/pecapiku/cmd/pecapiku lists,
// shows, verifies and prunes recorded entries, and the nested module
// github.com/pecapiku/pecapiku/s3 puts a store on an S3-compatible bucket,
// so that CI runners and laptops share one (PECAPIKU_STORE=s3://...).
//
// # Access letters
//
// r read the store, e execute the function, w write its result; in any order,
// each at most once, w only with e.
//
//	access         entry present                entry missing
//	rew (default)  return stored value          execute, write, return
//	re             return stored value          execute, return, write nothing
//	r   (CI)       return stored value          error: not recorded
//	ew  (refresh)  execute, overwrite, return   execute, write, return
//	e   (bypass)   execute, return              execute, return
//
// Without w nothing on disk changes: the store then sits on a read-only
// filesystem. An entry that cannot be decoded is a miss when e is granted and
// an error naming the file when it is not. A function that returns an error
// or panics writes nothing, and a value its codec would replay differently is
// refused with a diff before it is written.
//
// # Where the files go
//
// In tests, testdata/.pecapiku/<TestName>/<subtest>/<name>.json in the
// package under test, one file per entry, meant to be committed so that a
// team shares them and CI replays them; package-wide entries sit at
// testdata/.pecapiku/<name>.json. In programs, any directory given to
// cache.NewStore, or one under the user's cache directory (or
// $PECAPIKU_DIR) given to cache.NewUserStore.
package pecapiku
