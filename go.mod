module github.com/pecapiku/pecapiku

go 1.26

require (
	github.com/aymanbagabas/go-udiff v0.4.1
	github.com/creack/pty v1.1.24
	github.com/gkampitakis/ciinfo v0.3.5
	github.com/go-json-experiment/json v1.27.2
	github.com/gofrs/flock v0.12.1
	github.com/google/go-cmp v0.7.0
	github.com/mitchellh/hashstructure/v2 v2.0.2
	github.com/rogpeppe/go-internal v1.14.1
	github.com/spf13/afero v1.15.0
	golang.org/x/sys v0.34.0
	gotest.tools/v3 v3.5.2
)

require (
	golang.org/x/text v0.28.0 // indirect
	golang.org/x/tools v0.35.0 // indirect
)
