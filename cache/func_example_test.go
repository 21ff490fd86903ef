package cache_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// embed stands for an expensive function of one argument: it counts the
// letters a, e and o of a text.
func embed(text string) ([]float64, error) {
	return []float64{
		float64(strings.Count(text, "a")),
		float64(strings.Count(text, "e")),
		float64(strings.Count(text, "o")),
	}, nil
}

// The body of this example is the one in docs/func.md, kept in step by
// TestReadmeMemoizing.
func ExampleFunc() {
	// A real program leaves out WithFs: its entries then go to
	// ~/.cache/pecapiku/demo on Linux, or to $PECAPIKU_DIR/demo.
	store, err := cache.NewUserStore("demo",
		cache.WithAccess(cache.ReadExecuteWrite), // else PECAPIKU_ACCESS, else rew
		cache.WithFs(afero.NewMemMapFs()))
	if err != nil {
		fmt.Println(err)
		return
	}
	cachedEmbed, err := cache.Func(store, "embed", func(text string) ([]float64, error) {
		fmt.Println("embedding", text)
		return embed(text)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, text := range []string{"hello", "world", "hello"} {
		vector, err := cachedEmbed(text)
		fmt.Println(text, vector, err)
	}
	key, _ := cache.EntryKey("embed", "hello")
	path, _ := store.Path(key)
	fmt.Println(filepath.Base(path))
	// Output:
	// embedding hello
	// hello [0 1 1] <nil>
	// embedding world
	// world [0 0 1] <nil>
	// hello [0 1 1] <nil>
	// hello-8bcde8924788f193c2d7456935ebfa76.json
}

// multiplyArgs holds the arguments of multiply, to wrap it with Func.
type multiplyArgs struct {
	A, B [][]int
}

// multiply multiplies two matrices element by element.
func multiply(a, b [][]int) [][]int {
	out := make([][]int, len(a))
	for i := range a {
		out[i] = make([]int, len(a[i]))
		for j := range a[i] {
			out[i][j] = a[i][j] * b[i][j]
		}
	}
	return out
}

// A function of several arguments is wrapped as a function of a struct that
// holds them; the key is derived from all its fields.
func ExampleFunc_severalArguments() {
	store, _ := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	cachedMultiply, err := cache.Func(store, "multiply", func(args multiplyArgs) ([][]int, error) {
		fmt.Println("multiplying")
		return multiply(args.A, args.B), nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := [][]int{{1, 2}, {3, 4}}
	b := [][]int{{5, 6}, {7, 8}}
	for i := 0; i < 2; i++ {
		product, err := cachedMultiply(multiplyArgs{a, b})
		fmt.Println(product, err)
	}
	// Output:
	// multiplying
	// [[5 12] [21 32]] <nil>
	// [[5 12] [21 32]] <nil>
}

// article is an argument of which only the ID identifies the result, and
// whose Progress func could not be keyed anyway.
type article struct {
	ID       string
	Body     string
	Progress func(done float64)
}

// KeyFunc chooses the key from part of the argument.
func ExampleKeyFunc() {
	store, _ := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	wordCount, err := cache.Func(store, "words", func(a article) (int, error) {
		fmt.Println("counting the words of", a.ID)
		return len(strings.Fields(a.Body)), nil
	}, cache.KeyFunc(func(a article) string { return a.ID }))
	if err != nil {
		fmt.Println(err)
		return
	}
	progress := func(float64) {}
	for _, a := range []article{
		{ID: "intro", Body: "the cat saw the dog", Progress: progress},
		{ID: "intro", Body: "the same article, fetched again", Progress: progress},
		{ID: "outro", Body: "the end"},
	} {
		n, err := wordCount(a)
		fmt.Println(a.ID, n, err)
	}
	// Output:
	// counting the words of intro
	// intro 5 <nil>
	// intro 5 <nil>
	// counting the words of outro
	// outro 2 <nil>
}

// ConstKey fixes the key: whatever the argument, the first result is the one
// returned, until the entry is deleted or the access says to regenerate it.
func ExampleConstKey() {
	store, _ := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	forecast, err := cache.Func(store, "forecast", func(day string) (string, error) {
		fmt.Println("fetching the forecast on", day)
		return "sunny on " + day, nil
	}, cache.ConstKey("latest"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, day := range []string{"monday", "tuesday"} {
		f, err := forecast(day)
		fmt.Println(f, err)
	}
	entries, _ := store.List()
	fmt.Println(entries[0].Key)
	// Output:
	// fetching the forecast on monday
	// sunny on monday <nil>
	// sunny on monday <nil>
	// forecast/latest-2a1e2f87df3e44baee669c8bc2149627
}

// heavy stands for a slow function without arguments.
func heavy() (int, error) {
	fmt.Println("computing for a long time")
	return 42, nil
}

// The original pecapiku's single value cache: one stored value per
// function.
func ExampleSingleValue() {
	disk := afero.NewMemMapFs()
	for run := 1; run <= 2; run++ { // two runs of a program
		store, _ := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
		cachedHeavy, err := cache.SingleValue(store, "heavy", heavy)
		if err != nil {
			fmt.Println(err)
			return
		}
		for i := 0; i < 2; i++ {
			v, err := cachedHeavy()
			fmt.Println("run", run, v, err)
		}
	}
	// Output:
	// computing for a long time
	// run 1 42 <nil>
	// run 1 42 <nil>
	// run 2 42 <nil>
	// run 2 42 <nil>
}

// Bumping the version recomputes every entry of the function.
func ExampleVersion() {
	store, _ := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	for _, version := range []string{"1", "1", "2"} {
		greet, _ := cache.Func(store, "greet", func(name string) (string, error) {
			fmt.Println("greeting with version", version)
			return "hello " + name + " (v" + version + ")", nil
		}, cache.Version(version))
		fmt.Println(greet("ada"))
	}
	// Output:
	// greeting with version 1
	// hello ada (v1) <nil>
	// hello ada (v1) <nil>
	// greeting with version 2
	// hello ada (v2) <nil>
}

// An entry older than the maximum age is computed again; a read-only store
// reports that it expired.
func ExampleMaxAge() {
	disk := afero.NewMemMapFs()
	store, _ := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
	rates := func(currency string) (float64, error) {
		fmt.Println("fetching the rate of", currency)
		return 1.08, nil
	}
	cachedRates, _ := cache.Func(store, "rates", rates, cache.MaxAge(time.Hour))
	fmt.Println(cachedRates("EUR"))
	fmt.Println(cachedRates("EUR"))

	// Two hours later, as far as the file is concerned:
	key, _ := cache.EntryKey("rates", "EUR")
	path, _ := store.Path(key)
	earlier := time.Now().Add(-2 * time.Hour)
	_ = disk.Chtimes(path, earlier, earlier)

	readOnly, _ := cache.NewStore("cache", cache.WithFs(disk), cache.WithAccess(cache.ReadOnly))
	replay, _ := cache.Func(readOnly, "rates", rates, cache.MaxAge(time.Hour))
	_, err := replay("EUR")
	fmt.Println(errors.Is(err, cache.ErrNotCached), strings.Contains(err.Error(), "expired"))

	fmt.Println(cachedRates("EUR"))
	// Output:
	// fetching the rate of EUR
	// 1.08 <nil>
	// 1.08 <nil>
	// true true
	// fetching the rate of EUR
	// 1.08 <nil>
}

// EntryKey tells which entry holds the result for an argument, to read,
// inspect or delete it directly.
func ExampleEntryKey() {
	store, _ := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	double, _ := cache.Func(store, "double", func(n int) (int, error) { return 2 * n, nil })
	_, _ = double(21)

	key, err := cache.EntryKey("double", 21)
	fmt.Println(key, err)
	var stored int
	fmt.Println(store.Read(key, &stored), stored)
	fmt.Println(store.Delete(key))
	// Output:
	// double/8b30894f26972f8db88dfb3d52077160 <nil>
	// <nil> 42
	// <nil>
}

func ExampleNewUserStore() {
	previous, set := os.LookupEnv(cache.EnvDir)
	os.Setenv(cache.EnvDir, filepath.FromSlash("/srv/pecapiku"))
	defer func() {
		if set {
			os.Setenv(cache.EnvDir, previous)
		} else {
			os.Unsetenv(cache.EnvDir)
		}
	}()
	store, err := cache.NewUserStore("embeddings")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.ToSlash(store.Dir()))
	// Output:
	// /srv/pecapiku/embeddings
}

// transpose stands for an expensive computation.
func transpose(x [][]int) [][]int {
	out := make([][]int, len(x[0]))
	for j := range out {
		out[j] = make([]int, len(x))
		for i := range x {
			out[j][i] = x[i][j]
		}
	}
	return out
}

// The original pecapiku's CacheDict context manager reads a dictionary from
// its file, lets the block read and set keys, and writes the file back when
// the block ends, if the access allows it. A Store is that dictionary, one
// file per key: read a key, compute the value if it is missing, write it
// back. Do does all three in one call.
func ExampleStore_dictionary() {
	disk := afero.NewMemMapFs()
	x := [][]int{{1, 2}, {3, 4}}
	for run := 1; run <= 2; run++ { // two runs of a script
		store, err := cache.NewStore("example_cache_dict", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
		if err != nil {
			fmt.Println(err)
			return
		}
		var xT [][]int
		err = store.Read("x_T", &xT) // read the cache first
		switch {
		case errors.Is(err, iofs.ErrNotExist): // if it is not there,
			xT = transpose(x) // compute the value
			fmt.Println("run", run, "computed x_T")
		case err != nil:
			fmt.Println(err)
			return
		default:
			fmt.Println("run", run, "read x_T")
		}
		if store.Access().CanWrite() {
			if err := store.Write("x_T", xT); err != nil { // put the value in the cache
				fmt.Println(err)
				return
			}
		}
		fmt.Println(map[string][][]int{"x_T": xT})
	}

	store, _ := cache.NewStore("example_cache_dict", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
	xT, err := cache.Do(store, "x_T", func() ([][]int, error) { return transpose(x), nil })
	fmt.Println(xT, err)
	// Output:
	// run 1 computed x_T
	// map[x_T:[[1 3] [2 4]]]
	// run 2 read x_T
	// map[x_T:[[1 3] [2 4]]]
	// [[1 3] [2 4]] <nil>
}
