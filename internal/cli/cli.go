// Package cli is the commonroom command: it parses arguments, reads the
// configuration, opens the database and wires the packages onto one server.
// cmd/commonroom's main only handles signals and calls Run; tests call Run
// (or Main.Run) the same way, on a loopback port.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/config"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/federation"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
	"github.com/commonroom/commonroom/pub/bunstore"
)

// Version is this release of Commonroom.
const Version = "0.1.0-dev"

// ErrUsage marks errors in the command line itself; main exits with status 2
// for them.
var ErrUsage = errors.New("usage")

// Main runs the commonroom command. Its zero value writes nowhere and reads
// an empty environment; Run fills it from the process.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer // logs go here too
	// Getenv reads the environment; nil means an empty one.
	Getenv func(string) string
	// Listener, if set, is what serve answers on instead of listening on
	// the configured address (tests pass a listener on 127.0.0.1:0).
	Listener net.Listener
	// Ready, if set, is called by serve once the database is migrated and
	// the server is accepting requests.
	Ready func(addr net.Addr)
	// Routers are mounted after the built-in routes (tests add handlers
	// here).
	Routers []server.Router
	// Federation, if set, is called by serve with the server's federation
	// layer once it is built, before the server accepts requests (tests
	// reach its engine and delivery pool through it).
	Federation func(*federation.Federation)
	// OAuth, if set, is called by serve with the server's OAuth provider
	// once it is built, before the server accepts requests (tests issue
	// and revoke tokens through it).
	OAuth func(*oauth.Service)
	// Moderator, if set, is called by serve with the server's account
	// moderation (people and their sign-in accounts together), before the
	// server accepts requests.
	Moderator func(*federation.Moderator)
}

// Run runs the command line args (without the program name) with the
// process environment. It returns when the command is done or, for serve,
// when ctx is cancelled and the server has shut down.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := &Main{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	return m.Run(ctx, args)
}

// Migrations returns every migration set the server runs, in order.
func Migrations() []db.MigrationSet {
	return []db.MigrationSet{
		users.Migrations(),
		actors.Migrations(), // after users: actors.user_id references users.id
		{Name: "pub/bunstore", FS: bunstore.Migrations},
		federation.Migrations(),
		oauth.Migrations(), // after users, as the oauth package asks
	}
}

const usage = `Commonroom, a federated home for educator communities.

Usage:
  commonroom serve [flags]          run the server
  commonroom migrate [flags]        apply pending database migrations
  commonroom migrate status [flags] list migrations and whether they ran
  commonroom admin user create --username U --email E --password P [--role user|moderator|admin] [flags]
  commonroom admin user approve --username U [flags]
                                    let an account that signed up (registration approval) sign in
  commonroom admin user role --username U --role user|moderator|admin [flags]
                                    change what a user may do on this server
  commonroom admin invite create [--uses N] [--expires 168h] [flags]
                                    print an invite code (registration invite)
  commonroom admin token --username U [--scopes "read write follow"] [flags]
                                    print a bearer token for a bot or script
  commonroom admin backup --to FILE copy a SQLite database while it is in use
  commonroom version                print the version

Run "commonroom serve -h" for the configuration flags.
`

// Run runs one command line.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		_, _ = io.WriteString(m.Stderr, usage)
		return fmt.Errorf("%w: no command given", ErrUsage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "migrate":
		if len(rest) > 0 && rest[0] == "status" {
			return m.migrateStatus(ctx, rest[1:])
		}
		return m.migrate(ctx, rest)
	case "admin":
		if len(rest) >= 2 && rest[0] == "user" && rest[1] == "create" {
			return m.createUser(ctx, rest[2:])
		}
		if len(rest) >= 2 && rest[0] == "user" && rest[1] == "approve" {
			return m.approveUser(ctx, rest[2:])
		}
		if len(rest) >= 2 && rest[0] == "user" && rest[1] == "role" {
			return m.setRole(ctx, rest[2:])
		}
		if len(rest) >= 2 && rest[0] == "invite" && rest[1] == "create" {
			return m.createInvite(ctx, rest[2:])
		}
		if len(rest) >= 1 && rest[0] == "token" {
			return m.issueToken(ctx, rest[1:])
		}
		if len(rest) >= 1 && rest[0] == "backup" {
			return m.backup(ctx, rest[1:])
		}
		_, _ = io.WriteString(m.Stderr, usage)
		return fmt.Errorf("%w: unknown admin command %q", ErrUsage, strings.Join(rest, " "))
	case "version", "--version", "-version":
		_, err := fmt.Fprintln(m.Stdout, versionString())
		return err
	case "help", "-h", "--help":
		_, err := io.WriteString(m.Stdout, usage)
		return err
	default:
		_, _ = io.WriteString(m.Stderr, usage)
		return fmt.Errorf("%w: unknown command %q", ErrUsage, cmd)
	}
}

func versionString() string {
	v := "commonroom " + Version
	if info, ok := debug.ReadBuildInfo(); ok {
		v += " (" + info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += ", " + s.Value[:12]
			}
		}
		v += ")"
	}
	return v
}

// flags returns a flag set for a command with the configuration flags bound.
func (m *Main) flags(name string) (*flag.FlagSet, *config.Flags) {
	fs := flag.NewFlagSet("commonroom "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return fs, config.Bind(fs)
}

// parse parses args and loads the configuration.
func (m *Main) parse(fs *flag.FlagSet, cf *config.Flags, args []string) (config.Config, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, err
		}
		return config.Config{}, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return cf.Load(m.Getenv)
}

func (m *Main) logger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

// openDB opens the configured database and applies pending migrations.
func openDB(ctx context.Context, cfg config.Config, logger *slog.Logger) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx, d.DB, Migrations()...)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	if len(applied) > 0 {
		logger.Info("applied migrations", "count", len(applied), "migrations", strings.Join(applied, ","))
	}
	return d, nil
}
