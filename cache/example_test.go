package cache_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// countWords stands for an expensive computation.
func countWords() (map[string]int, error) {
	counts := map[string]int{}
	for _, w := range strings.Fields("the cat saw the dog") {
		counts[w]++
	}
	return counts, nil
}

func ExampleDo() {
	disk := afero.NewMemMapFs() // a real program leaves out WithFs and uses its disk
	store, err := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
	if err != nil {
		fmt.Println(err)
		return
	}
	for run := 1; run <= 2; run++ {
		counts, err := cache.Do(store, "corpus/words", func() (map[string]int, error) {
			fmt.Println("counting words")
			return countWords()
		})
		fmt.Println(run, counts, err)
	}
	data, _ := afero.ReadFile(disk, "cache/corpus/words.json")
	fmt.Print(string(data))
	// Output:
	// counting words
	// 1 map[cat:1 dog:1 saw:1 the:2] <nil>
	// 2 map[cat:1 dog:1 saw:1 the:2] <nil>
	// {
	//   "cat": 1,
	//   "dog": 1,
	//   "saw": 1,
	//   "the": 2
	// }
}

// A read-only store replays what was recorded and refuses to compute the
// rest, as a CI run should.
func ExampleDo_readOnly() {
	disk := afero.NewMemMapFs()
	_ = afero.WriteFile(disk, "cache/answer.json", []byte("42\n"), 0o644)
	store, err := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadOnly))
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, err := cache.Do(store, "answer", func() (int, error) { return 0, errors.New("not called") })
	fmt.Println(answer, err)

	_, err = cache.Do(store, "question", func() (string, error) { return "", errors.New("not called") })
	fmt.Println(errors.Is(err, cache.ErrNotCached))
	fmt.Println(err)
	// Output:
	// 42 <nil>
	// true
	// cache: "question": not cached: cache/question.json does not exist and access "r" has no e to compute it; compute and store it with access rew (PECAPIKU_ACCESS=rew)
}

func ExampleParseAccess() {
	for _, s := range []string{"wer", "r", "rw"} {
		a, err := cache.ParseAccess(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(a, a.CanRead(), a.CanExecute(), a.CanWrite())
	}
	// Output:
	// rew true true true
	// r true false false
	// cache: invalid access "rw": w without e writes nothing, since only an executed function has a value to write; valid access is "rew" (read, execute, write; the default), "re", "r" (read-only), "ew" (regenerate) or "e" (bypass); letters in any order, each at most once, w only with e
}

func ExampleStore_List() {
	disk := afero.NewMemMapFs()
	store, _ := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
	_ = store.Write("models/small", []float64{0.5, 0.25})
	_ = store.Write("models/large", []float64{0.5, 0.25, 0.125})
	entries, err := store.List()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Println(e.Key, e.Codec.Name(), e.Size, e.Path)
	}
	// Output:
	// models/large json 27 cache/models/large.json
	// models/small json 18 cache/models/small.json
}

func ExampleWithObserver() {
	disk := afero.NewMemMapFs()
	store, _ := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite),
		cache.WithObserver(func(e cache.Event) { fmt.Println(e.Kind, e.Path) }))
	for i := 0; i < 2; i++ {
		_, _ = cache.Do(store, "greeting", func() (string, error) { return "hello", nil })
	}
	// Output:
	// execute cache/greeting.json
	// write cache/greeting.json
	// hit cache/greeting.json
}

// A store made once can report each caller's events to that caller: Observe
// gives a view of it with an observer of its own.
func ExampleStore_Observe() {
	store, _ := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	for _, caller := range []string{"first", "second"} {
		view := store.Observe(func(e cache.Event) { fmt.Println(caller, e.Kind, e.Path) })
		_, _ = cache.Do(view, "greeting", func() (string, error) { return "hello", nil })
	}
	// Output:
	// first execute cache/greeting.json
	// first write cache/greeting.json
	// second hit cache/greeting.json
}

// The json codec decodes strictly: a field the type does not have, say from
// a fixture recorded before the type changed, is an error rather than
// silently dropped.
func ExampleJSON() {
	type Point struct{ X, Y int }
	var p Point
	err := cache.JSON.Unmarshal([]byte(`{"X":1,"Y":2,"Z":3}`), &p)
	fmt.Println(err)
	// Output:
	// at /Z: cache_test.Point has no field of that name (the entry was recorded from another type, or edited)
}
