package s3_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

func countWords() (map[string]int, error) {
	counts := map[string]int{}
	for _, w := range strings.Fields("the quick brown fox jumps over the lazy dog") {
		counts[w]++
	}
	return counts, nil
}

// A store on a bucket, with a local copy of what it reads. The client is
// configured from the AWS environment (AWS_ENDPOINT_URL, AWS_REGION,
// AWS_ACCESS_KEY_ID, ...), so this needs a server and prints nothing here.
func Example() {
	bucket, err := s3.New("team-fixtures", "ci")
	if err != nil {
		log.Fatal(err)
	}
	fsys := s3.NewReadThrough(bucket, afero.NewBasePathFs(afero.NewOsFs(), "/var/cache/pecapiku"))
	store, err := cache.NewStore("corpus", cache.WithFs(fsys))
	if err != nil {
		log.Fatal(err)
	}
	counts, err := cache.Do(store, "words", countWords) // s3://team-fixtures/ci/corpus/words.json
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(counts["the"])
}

// With the package imported, PECAPIKU_STORE puts every store made without
// WithFs on a bucket; cache.OpenURL opens the same URLs in code.
func Example_url() {
	fsys, err := cache.OpenURL("s3://team-fixtures/ci?local=off") // no local copy
	if err != nil {
		log.Fatal(err)
	}
	store, err := cache.NewStore("corpus", cache.WithFs(fsys))
	if err != nil {
		log.Fatal(err)
	}
	_, err = cache.Do(store, "words", countWords)
	if err != nil {
		log.Fatal(err)
	}
}

// The read-through copy works over any two filesystems: here both are in
// memory, the "remote" one standing for a bucket.
func ExampleNewReadThrough() {
	remote, local := afero.NewMemMapFs(), afero.NewMemMapFs()
	afero.WriteFile(remote, "corpus/words.json", []byte(`{"the": 2}`), 0o644)

	store, err := cache.NewStore("corpus", cache.WithFs(s3.NewReadThrough(remote, local)), cache.WithAccess(cache.ReadOnly))
	if err != nil {
		log.Fatal(err)
	}
	counts, err := cache.Do(store, "words", countWords)
	if err != nil {
		log.Fatal(err)
	}
	// The local copy is named after the file and its version.
	copies, _ := afero.Glob(local, "corpus/words.json@*")
	fmt.Println(counts["the"], len(copies))
	// Output: 2 1
}

// A feature branch of the code records apart from main: its store reads
// main's entries and writes its own, and, once the branch is merged, its
// recordings are promoted over main's. This needs a server and prints
// nothing here.
func ExampleNewBranch() {
	branch, err := s3.NewBranch("team-fixtures", "branches/feature-x", "branches/main")
	if err != nil {
		log.Fatal(err)
	}
	store, err := cache.NewStore("corpus", cache.WithFs(branch), cache.WithAccess(cache.Regenerate))
	if err != nil {
		log.Fatal(err)
	}
	// Written to s3://team-fixtures/branches/feature-x/corpus/words.json;
	// main's object, if any, is left as it is.
	if _, err := cache.Do(store, "words", countWords); err != nil {
		log.Fatal(err)
	}

	// The branch is merged: main's object is replaced by the branch's.
	promoted, err := branch.Promote()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(promoted)
}
