package config_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/internal/config"
)

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// MustWrite writes a file in a temporary directory and returns its path.
func MustWrite(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func load(args []string, e env) (config.Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fl := config.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	return fl.Load(e.get)
}

func MustLoad(tb testing.TB, args []string, e env) config.Config {
	tb.Helper()
	cfg, err := load(args, e)
	if err != nil {
		tb.Fatalf("load(%v): %v", args, err)
	}
	return cfg
}

func TestDefaults(t *testing.T) {
	cfg := MustLoad(t, nil, nil)
	want := config.DefaultConfig()
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config with nothing set = %+v, want %+v", cfg, want)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.Host != "localhost:8080" || cfg.DatabaseDSN() != "sqlite:"+filepath.Join("data", "commonroom.db") {
		t.Errorf("defaults = %+v (dsn %s)", cfg, cfg.DatabaseDSN())
	}
	if cfg.BaseURL() != "https://localhost:8080" {
		t.Errorf("BaseURL = %s", cfg.BaseURL())
	}
}

func TestPrecedence(t *testing.T) {
	toml := MustWrite(t, "c.toml", `
addr = "127.0.0.1:1001"
host = "File.Example"
db = "sqlite:/tmp/file.db"
shutdown_timeout = "3s"
log_format = "json"
`)
	yml := MustWrite(t, "c.yaml", "addr: 127.0.0.1:1001\nhost: file.example\ndb: sqlite:/tmp/file.db\nshutdown_timeout: 3s\nlog_format: json\n")
	for _, file := range []string{toml, yml} {
		t.Run(filepath.Ext(file), func(t *testing.T) {
			tests := []struct {
				name string
				args []string
				env  env
				want func(config.Config) bool
			}{
				{"file beats default", []string{"--config", file}, nil, func(c config.Config) bool {
					return c.Addr == "127.0.0.1:1001" && c.Host == "file.example" && c.ShutdownTimeout == 3*time.Second && c.LogFormat == "json"
				}},
				{"env beats file", []string{"--config", file}, env{"COMMONROOM_ADDR": "127.0.0.1:2002", "COMMONROOM_INSECURE_HTTP": "true"}, func(c config.Config) bool {
					return c.Addr == "127.0.0.1:2002" && c.Host == "file.example" && c.InsecureHTTP
				}},
				{"flag beats env", []string{"--config", file, "--addr", "127.0.0.1:3003", "--insecure-http=false"}, env{"COMMONROOM_ADDR": "127.0.0.1:2002", "COMMONROOM_INSECURE_HTTP": "true"}, func(c config.Config) bool {
					return c.Addr == "127.0.0.1:3003" && !c.InsecureHTTP && c.DB == "sqlite:/tmp/file.db"
				}},
				{"file from env", nil, env{"COMMONROOM_CONFIG": file}, func(c config.Config) bool { return c.Addr == "127.0.0.1:1001" }},
				{"bare bool flag", []string{"--insecure-http"}, nil, func(c config.Config) bool { return c.InsecureHTTP && c.BaseURL() == "http://localhost:8080" }},
				{"db flag", []string{"--db", "postgres://u@db.example/x"}, env{"COMMONROOM_DB": "sqlite::memory:"}, func(c config.Config) bool { return c.DatabaseDSN() == "postgres://u@db.example/x" }},
				{"log level", []string{"--log-level", "debug"}, nil, func(c config.Config) bool { return c.LogLevel == slog.LevelDebug }},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					cfg := MustLoad(t, tt.args, tt.env)
					if !tt.want(cfg) {
						t.Errorf("got %+v", cfg)
					}
				})
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  env
		file string // name and content, separated by a colon and a newline
		want string
	}{
		{"addr without port", []string{"--addr", "foo"}, nil, "", `config: addr "foo": missing port in address`},
		{"addr with bad port", []string{"--addr", "127.0.0.1:99999"}, nil, "", `config: addr "127.0.0.1:99999": port must be`},
		{"host with scheme", nil, env{"COMMONROOM_HOST": "https://example.org"}, "", `config: host "https://example.org": give the host name only`},
		{"host with path", []string{"--host", "example.org/x"}, nil, "", `config: host "example.org/x": give the host name only`},
		{"empty host", []string{"--host", ""}, nil, "", `config: host "": must not be empty`},
		{"unknown db", []string{"--db", "mysql://x"}, nil, "", `config: db "mysql://x": unknown database, want sqlite:PATH`},
		{"bad postgres option", []string{"--db", "postgres://u@h/x?sslmode=sometimes"}, nil, "", `config: db "postgres://u@h/x?sslmode=sometimes": bad postgres DSN: pgdriver: sslmode 'sometimes' is not supported`},
		{"db password redacted", []string{"--db", "postgres://u:hunter2@/x"}, nil, "", `config: db "postgres://u:xxxxx@/x": missing host`},
		{"bad bool in env", nil, env{"COMMONROOM_INSECURE_HTTP": "maybe"}, "", `config: insecure_http "maybe" (env COMMONROOM_INSECURE_HTTP): want true or false`},
		{"bad duration flag", []string{"--shutdown-timeout", "soon"}, nil, "", `config: shutdown_timeout "soon" (flag --shutdown-timeout): want a duration`},
		{"negative duration", []string{"--shutdown-timeout", "-1s"}, nil, "", `config: shutdown_timeout "-1s": must be positive`},
		{"bad log level", []string{"--log-level", "loud"}, nil, "", `config: log_level "loud" (flag --log-level): want debug`},
		{"bad log format", nil, env{"COMMONROOM_LOG_FORMAT": "xml"}, "", `config: log_format "xml": want "text" or "json"`},
		{"unknown file key", nil, nil, "c.toml:\nadress = \"x\"\n", `config: adress "x" (file `},
		{"wrong type in file", nil, nil, "c.toml:\naddr = 8080\n", `config: addr "8080" (file `},
		{"bad value in yaml", nil, nil, "c.yml:\nshutdown_timeout: forever\n", `config: shutdown_timeout "forever" (file `},
		{"bad toml syntax", nil, nil, "c.toml:\naddr = \n", `config: `},
		{"unknown extension", nil, nil, "c.ini:\naddr=x\n", `unknown file type ".ini"`},
		{"missing file", []string{"--config", "/nonexistent/c.toml"}, nil, "", `config: open /nonexistent/c.toml`},
		{"bad authorized_fetch", nil, env{"COMMONROOM_AUTHORIZED_FETCH": "sometimes"}, "", `config: authorized_fetch "sometimes" (env COMMONROOM_AUTHORIZED_FETCH): want true or false`},
		{"open_registrations in file is removed", nil, nil, "c.toml:\nopen_registrations = true\n", `config: open_registrations "true" (file `},
		{"open_registrations in file says what replaced it", nil, nil, "c.yaml:\nopen_registrations: true\n", `removed: set registration = "open"`},
		{"open_registrations in env is removed", nil, env{"COMMONROOM_OPEN_REGISTRATIONS": "true"}, "", `config: open_registrations "true" (env COMMONROOM_OPEN_REGISTRATIONS): removed: set registration = "open"`},
		{"open_registrations flag is gone", []string{"--open-registrations"}, nil, "", `flag provided but not defined: -open-registrations`},
		{"unknown registration mode", []string{"--registration", "everyone"}, nil, "", `config: registration "everyone": want open, approval, closed or invite`},
		{"registration mode is case-sensitive", nil, env{"COMMONROOM_REGISTRATION": "Open"}, "", `config: registration "Open": want open`},
		{"empty registration in file", nil, nil, "c.toml:\nregistration = \"\"\n", `config: registration "": want open`},
		{"registration as a bool in file", nil, nil, "c.yaml:\nregistration: true\n", `config: registration "true" (file `},
		{"bad oauth_password_grant", nil, env{"COMMONROOM_OAUTH_PASSWORD_GRANT": "legacy"}, "", `config: oauth_password_grant "legacy" (env COMMONROOM_OAUTH_PASSWORD_GRANT): want true or false`},
		{"delivery_concurrency not a number", []string{"--delivery-concurrency", "many"}, nil, "", `config: delivery_concurrency "many" (flag --delivery-concurrency): want a whole number`},
		{"delivery_concurrency zero", []string{"--delivery-concurrency", "0"}, nil, "", `config: delivery_concurrency "0": must be from 1 to 1024`},
		{"delivery_concurrency too high", nil, env{"COMMONROOM_DELIVERY_CONCURRENCY": "5000"}, "", `config: delivery_concurrency "5000": must be from 1 to 1024`},
		{"delivery_per_host above concurrency", []string{"--delivery-concurrency", "8", "--delivery-per-host", "9"}, nil, "", `config: delivery_per_host "9": must be from 1 to delivery_concurrency (8)`},
		{"delivery_per_host negative", []string{"--delivery-per-host", "-1"}, nil, "", `config: delivery_per_host "-1": must be from 1`},
		{"delivery_per_host as a float in file", nil, nil, "c.toml:\ndelivery_per_host = 2.5\n", `config: delivery_per_host "2.5" (file `},
		{"int for a string key in file", nil, nil, "c.yaml:\ninstance_name: 12\n", `config: instance_name "12" (file `},
		{"instance_name too long", []string{"--instance-name", strings.Repeat("n", 101)}, nil, "", `config: instance_name "nnn`},
		{"instance_name with a newline", []string{"--instance-name", "a\nb"}, nil, "", `contains a control character`},
		{"instance_description with a NUL", nil, env{"COMMONROOM_INSTANCE_DESCRIPTION": "a\x00b"}, "", `config: instance_description "a\x00b": contains a control character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				name, content, _ := strings.Cut(tt.file, ":\n")
				args = append([]string{"--config", MustWrite(t, name, content)}, args...)
			}
			_, err := load(args, tt.env)
			if err == nil {
				t.Fatal("load succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFederationSettings(t *testing.T) {
	toml := MustWrite(t, "c.toml", `
authorized_fetch = true
instance_name = "Maple School"
instance_description = """
Teachers of the Maple district.
Sharing lesson plans."""
delivery_concurrency = 16
delivery_per_host = 2
`)
	yml := MustWrite(t, "c.yaml", "authorized_fetch: true\ninstance_name: Maple School\n"+
		"instance_description: |-\n  Teachers of the Maple district.\n  Sharing lesson plans.\ndelivery_concurrency: 16\ndelivery_per_host: 2\n")
	want := func(c config.Config) bool {
		return c.AuthorizedFetch && c.InstanceName == "Maple School" &&
			c.InstanceDescription == "Teachers of the Maple district.\nSharing lesson plans." &&
			c.DeliveryConcurrency == 16 && c.DeliveryPerHost == 2
	}
	tests := []struct {
		name string
		args []string
		env  env
	}{
		{"toml", []string{"--config", toml}, nil},
		{"yaml", []string{"--config", yml}, nil},
		{"env", nil, env{
			"COMMONROOM_AUTHORIZED_FETCH": "true", "COMMONROOM_INSTANCE_NAME": "Maple School",
			"COMMONROOM_INSTANCE_DESCRIPTION": "Teachers of the Maple district.\nSharing lesson plans.",
			"COMMONROOM_DELIVERY_CONCURRENCY": "16", "COMMONROOM_DELIVERY_PER_HOST": "2",
		}},
		{"flags", []string{"--authorized-fetch", "--instance-name", "Maple School",
			"--instance-description", "Teachers of the Maple district.\nSharing lesson plans.",
			"--delivery-concurrency", "16", "--delivery-per-host", "2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if cfg := MustLoad(t, tt.args, tt.env); !want(cfg) {
				t.Errorf("got %+v", cfg)
			}
		})
	}
	def := config.DefaultConfig()
	if def.AuthorizedFetch || def.DeliveryConcurrency != 64 || def.DeliveryPerHost != 4 {
		t.Errorf("federation defaults = %+v", def)
	}
}

func TestRegistrationSettings(t *testing.T) {
	def := config.DefaultConfig()
	if def.Registration != config.RegistrationClosed || def.OpenRegistrations() || def.OAuthPasswordGrant {
		t.Errorf("defaults: registration %q, open %v, password grant %v; want closed, false, false",
			def.Registration, def.OpenRegistrations(), def.OAuthPasswordGrant)
	}
	tests := []struct {
		name     string
		args     []string
		env      env
		mode     string
		open     bool
		password bool
	}{
		{"open by flag", []string{"--registration", "open"}, nil, config.RegistrationOpen, true, false},
		{"approval by env", nil, env{"COMMONROOM_REGISTRATION": "approval"}, config.RegistrationApproval, false, false},
		{"invite from toml", []string{"--config", MustWrite(t, "c.toml", "registration = \"invite\"\noauth_password_grant = true\n")}, nil, config.RegistrationInvite, false, true},
		{"open from yaml", []string{"--config", MustWrite(t, "c.yaml", "registration: open\noauth_password_grant: true\n")}, nil, config.RegistrationOpen, true, true},
		{"flag beats env", []string{"--registration", "closed", "--oauth-password-grant"}, env{"COMMONROOM_REGISTRATION": "open"}, config.RegistrationClosed, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := MustLoad(t, tt.args, tt.env)
			if cfg.Registration != tt.mode || cfg.OpenRegistrations() != tt.open || cfg.OAuthPasswordGrant != tt.password {
				t.Errorf("registration %q, open %v, password grant %v; want %q, %v, %v",
					cfg.Registration, cfg.OpenRegistrations(), cfg.OAuthPasswordGrant, tt.mode, tt.open, tt.password)
			}
		})
	}
}

func TestHostIsNormalized(t *testing.T) {
	tests := map[string]string{
		"Example.ORG":      "example.org",
		"example.org.":     "example.org",
		"LOCALHOST:8080":   "localhost:8080",
		"[::1]:8080":       "[::1]:8080",
		"127.0.0.1:9":      "127.0.0.1:9",
		"xn--bcher-kva.ch": "xn--bcher-kva.ch",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			cfg := MustLoad(t, []string{"--host", in}, nil)
			if cfg.Host != want {
				t.Errorf("host %q normalized to %q, want %q", in, cfg.Host, want)
			}
		})
	}
}

func TestFieldsHaveDistinctNames(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range config.Fields() {
		for _, name := range []string{"key " + f.Key, "env " + f.Env(), "flag " + f.Flag()} {
			if seen[name] {
				t.Errorf("%s used twice", name)
			}
			seen[name] = true
		}
		if f.Usage == "" {
			t.Errorf("field %s has no usage text", f.Key)
		}
	}
}

// TestREADMEListsEverySetting keeps the configuration table in README.md in
// step with Fields.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range config.Fields() {
		row := "| `" + f.Key + "` | `--" + f.Flag() + "` | `" + f.Env() + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row starting %s", row)
		}
	}
}

func TestTrustedProxiesAndRateLimit(t *testing.T) {
	dir := t.TempDir()
	toml := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(toml, []byte("trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\", \"192.0.2.7\"]\nrate_limit_api = \"50/1m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := MustLoad(t, []string{"--config", toml}, nil)
	if got := fmt.Sprint(cfg.TrustedProxies); got != "[10.0.0.0/8 fd00::/8 192.0.2.7/32]" {
		t.Errorf("trusted_proxies from file = %s", got)
	}
	if cfg.RateLimitAPI != (config.RateLimit{Requests: 50, Window: time.Minute}) {
		t.Errorf("rate_limit_api from file = %+v", cfg.RateLimitAPI)
	}

	tests := []struct {
		name  string
		args  []string
		env   env
		proxy string
		limit config.RateLimit
	}{
		{"defaults", nil, nil, "[]", config.RateLimit{Requests: 300, Window: 5 * time.Minute}},
		{"flag list", []string{"--trusted-proxies", " 10.1.0.0/16 , ::ffff:172.16.0.0/108"}, nil, "[10.1.0.0/16 172.16.0.0/12]", config.RateLimit{Requests: 300, Window: 5 * time.Minute}},
		{"env", nil, env{"COMMONROOM_TRUSTED_PROXIES": "2001:db8::1", "COMMONROOM_RATE_LIMIT_API": "100000/5m"}, "[2001:db8::1/128]", config.RateLimit{Requests: 100000, Window: 5 * time.Minute}},
		{"off", []string{"--rate-limit-api", "off"}, nil, "[]", config.RateLimit{}},
		{"zero", []string{"--rate-limit-api", "0"}, nil, "[]", config.RateLimit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := MustLoad(t, tt.args, tt.env)
			if got := fmt.Sprint(cfg.TrustedProxies); got != tt.proxy && !(tt.proxy == "[]" && len(cfg.TrustedProxies) == 0) {
				t.Errorf("TrustedProxies = %s, want %s", got, tt.proxy)
			}
			if cfg.RateLimitAPI != tt.limit {
				t.Errorf("RateLimitAPI = %+v, want %+v", cfg.RateLimitAPI, tt.limit)
			}
		})
	}

	for _, bad := range [][]string{
		{"--trusted-proxies", "10.0.0.0/33"},
		{"--trusted-proxies", "proxy.internal"},
		{"--rate-limit-api", "300"},
		{"--rate-limit-api", "-1/5m"},
		{"--rate-limit-api", "300/0s"},
		{"--rate-limit-api", "lots/5m"},
	} {
		_, err := load(bad, nil)
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Key != strings.ReplaceAll(strings.TrimPrefix(bad[0], "--"), "-", "_") {
			t.Errorf("load(%q) = %v, want a config error for its key", bad, err)
		}
	}
}
