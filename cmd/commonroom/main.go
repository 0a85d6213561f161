// Command commonroom runs a Commonroom server and its admin tasks.
//
//	commonroom serve                  run the server (127.0.0.1:8080, data in ./data)
//	commonroom migrate [status]       apply or list database migrations
//	commonroom admin user create ...  create a local user
//	commonroom admin user approve ... let a user who signed up sign in (approval mode)
//	commonroom admin invite create    make an invite code (invite mode)
//	commonroom admin token ...        print a bearer token for bots and scripts
//	commonroom admin backup --to F    copy a live SQLite database
//	commonroom version
//
// All the work is in internal/cli; main only turns SIGINT and SIGTERM into a
// cancelled context and the result into an exit status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/commonroom/commonroom/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handling so that a
		// second Ctrl-C stops a shutdown that takes too long.
		<-ctx.Done()
		stop()
	}()
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintln(os.Stderr, "commonroom:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "commonroom:", err)
		os.Exit(1)
	}
}
