// Pecapiku is the pecapiku command of github.com/pecapiku/pecapiku/cmd/pecapiku
// that also works on stores in S3 buckets: it takes s3://bucket/prefix/...
// URLs wherever it takes paths, and with PECAPIKU_STORE=s3://bucket/prefix
// its ls and verify list the stores of the current module on the bucket,
// and its prune checks and prunes there the stores of the packages it
// tests, their stale lock objects included. Install it with
//
//	go install github.com/pecapiku/pecapiku/s3/cmd/pecapiku@latest
//
// It is a separate program because the core module does not depend on the
// AWS SDK. The endpoint, region and credentials come from the AWS
// environment, as for package github.com/pecapiku/pecapiku/s3. The command
// is documented in github.com/pecapiku/pecapiku/cmd/pecapiku.
package main

import (
	"os"

	"github.com/pecapiku/pecapiku/internal/cli"
	_ "github.com/pecapiku/pecapiku/s3" // opens s3:// URLs
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
