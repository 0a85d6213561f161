package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable Commonroom reads.
const EnvPrefix = "COMMONROOM_"

// EnvConfig names the environment variable that gives the config file when
// --config is not used.
const EnvConfig = EnvPrefix + "CONFIG"

// Field describes one setting: its key in the file, environment variable,
// flag, default and meaning.
type Field struct {
	Key    string
	Usage  string
	isBool bool // a flag without a value means true; files may give a boolean
	isInt  bool // files may give an integer
	isList bool // files may give a list of strings, read as one comma-separated string
	get    func(Config) string
	set    func(*Config, string) error
}

// Env returns the field's environment variable.
func (f Field) Env() string { return EnvPrefix + strings.ToUpper(f.Key) }

// Flag returns the field's flag, without dashes.
func (f Field) Flag() string { return strings.ReplaceAll(f.Key, "_", "-") }

// Default returns the field's default value as text.
func (f Field) Default() string { return f.get(DefaultConfig()) }

// Fields lists every setting, in the order the documentation shows them.
func Fields() []Field {
	return []Field{
		{Key: "addr", Usage: "TCP address to listen on",
			get: func(c Config) string { return c.Addr },
			set: func(c *Config, v string) error { c.Addr = v; return nil }},
		{Key: "host", Usage: "public host name (and port) used in IRIs and WebFinger",
			get: func(c Config) string { return c.Host },
			set: func(c *Config, v string) error { c.Host = v; return nil }},
		{Key: "data_dir", Usage: "directory for the SQLite database and other local files",
			get: func(c Config) string { return c.DataDir },
			set: func(c *Config, v string) error { c.DataDir = v; return nil }},
		{Key: "db", Usage: "database: sqlite:PATH, sqlite::memory: or a postgres:// DSN (empty: DATA_DIR/commonroom.db)",
			get: func(c Config) string { return c.DB },
			set: func(c *Config, v string) error { c.DB = v; return nil }},
		boolField("insecure_http", "federate over http and allow loopback/private peers (tests and demos only)",
			func(c *Config) *bool { return &c.InsecureHTTP }),
		{Key: "shutdown_timeout", Usage: "how long a stopping server waits for in-flight requests",
			get: func(c Config) string { return c.ShutdownTimeout.String() },
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("want a duration such as 15s or 1m")
				}
				c.ShutdownTimeout = d
				return nil
			}},
		{Key: "log_level", Usage: "lowest log level: debug, info, warn or error",
			get: func(c Config) string { return strings.ToLower(c.LogLevel.String()) },
			set: func(c *Config, v string) error {
				var l slog.Level
				if err := l.UnmarshalText([]byte(v)); err != nil {
					return fmt.Errorf("want debug, info, warn or error")
				}
				c.LogLevel = l
				return nil
			}},
		{Key: "log_format", Usage: "log format: text or json",
			get: func(c Config) string { return c.LogFormat },
			set: func(c *Config, v string) error { c.LogFormat = v; return nil }},
		boolField("authorized_fetch", "require signed GETs for actor and object documents (the instance actor stays public)",
			func(c *Config) *bool { return &c.AuthorizedFetch }),
		{Key: "instance_name", Usage: "the server's name in NodeInfo (nodeName)",
			get: func(c Config) string { return c.InstanceName },
			set: func(c *Config, v string) error { c.InstanceName = v; return nil }},
		{Key: "instance_description", Usage: "the server's description in NodeInfo (nodeDescription)",
			get: func(c Config) string { return c.InstanceDescription },
			set: func(c *Config, v string) error { c.InstanceDescription = v; return nil }},
		intField("delivery_concurrency", "most outgoing deliveries in flight at once",
			func(c *Config) *int { return &c.DeliveryConcurrency }),
		intField("delivery_per_host", "most outgoing deliveries in flight to one remote host",
			func(c *Config) *int { return &c.DeliveryPerHost }),
		{Key: "registration", Usage: "who may sign up: open, approval, closed or invite (NodeInfo's openRegistrations is true only for open)",
			get: func(c Config) string { return c.Registration },
			set: func(c *Config, v string) error { c.Registration = v; return nil }},
		boolField("oauth_password_grant", "allow OAuth's password grant for legacy clients (they see the password)",
			func(c *Config) *bool { return &c.OAuthPasswordGrant }),
		{Key: "trusted_proxies", isList: true,
			Usage: "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (empty: never read the header)",
			get: func(c Config) string {
				items := make([]string, len(c.TrustedProxies))
				for i, p := range c.TrustedProxies {
					items[i] = p.String()
				}
				return strings.Join(items, ",")
			},
			set: func(c *Config, v string) error {
				ps, err := ParseTrustedProxies(v)
				if err != nil {
					return err
				}
				c.TrustedProxies = ps
				return nil
			}},
		{Key: "rate_limit_api", isInt: true,
			Usage: `requests to /api/* and /oauth/token per token or per IP (IPv6 /64), such as "300/5m"; 0 or "off" disables (benchmarks raise this)`,
			get:   func(c Config) string { return c.RateLimitAPI.String() },
			set: func(c *Config, v string) error {
				r, err := ParseRateLimit(v)
				if err != nil {
					return err
				}
				c.RateLimitAPI = r
				return nil
			}},
	}
}

// removedKeys maps each setting that no longer exists to what to set
// instead, so that an old config file or environment fails with advice
// rather than "unknown key" or, for the environment, silence.
func removedKeys() map[string]string {
	return map[string]string{
		"open_registrations": `removed: set registration = "open" (or approval, closed, invite); NodeInfo's openRegistrations follows it`,
	}
}

// boolField is a true/false setting stored at *p(c).
func boolField(key, usage string, p func(*Config) *bool) Field {
	return Field{Key: key, Usage: usage, isBool: true,
		get: func(c Config) string { return strconv.FormatBool(*p(&c)) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false")
			}
			*p(c) = b
			return nil
		}}
}

// intField is a whole-number setting stored at *p(c); Validate checks its
// range.
func intField(key, usage string, p func(*Config) *int) Field {
	return Field{Key: key, Usage: usage, isInt: true,
		get: func(c Config) string { return strconv.Itoa(*p(&c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("want a whole number")
			}
			*p(c) = n
			return nil
		}}
}

// Flags are the configuration flags bound to a flag.FlagSet.
type Flags struct {
	configFile string
	values     map[string]*flagValue // by key; set ones have set == true
}

type flagValue struct {
	set    bool
	value  string
	isBool bool
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.value
}
func (v *flagValue) Set(s string) error { v.value, v.set = s, true; return nil }
func (v *flagValue) IsBoolFlag() bool   { return v.isBool }

// Bind registers --config and one flag per field on fs. After fs.Parse, call
// Load.
func Bind(fs *flag.FlagSet) *Flags {
	f := &Flags{values: map[string]*flagValue{}}
	fs.StringVar(&f.configFile, "config", "", "configuration file, TOML (.toml) or YAML (.yaml, .yml) (env "+EnvConfig+")")
	for _, field := range Fields() {
		v := &flagValue{isBool: field.isBool}
		f.values[field.Key] = v
		usage := fmt.Sprintf("%s (env %s", field.Usage, field.Env())
		if d := field.Default(); d != "" && d != "false" {
			usage += ", default " + d
		}
		usage += ")"
		fs.Var(v, field.Flag(), usage)
	}
	return f
}

// Load builds the configuration: defaults, then the config file (--config, or
// COMMONROOM_CONFIG), then environment variables, then the flags that were
// given, and validates the result. getenv is usually os.Getenv; nil means
// no environment.
func (f *Flags) Load(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	cfg := DefaultConfig()
	file := f.configFile
	if file == "" {
		file = getenv(EnvConfig)
	}
	if file != "" {
		if err := LoadFile(file, &cfg); err != nil {
			return Config{}, err
		}
	}
	if err := ApplyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	for _, field := range Fields() {
		v := f.values[field.Key]
		if v == nil || !v.set {
			continue
		}
		if err := field.set(&cfg, v.value); err != nil {
			return Config{}, &Error{Key: field.Key, Value: v.value, Source: "flag --" + field.Flag(), Reason: err.Error()}
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ApplyEnv sets every field whose COMMONROOM_* variable is non-empty. The
// variable of a removed setting is an error that says what replaced it.
func ApplyEnv(cfg *Config, getenv func(string) string) error {
	removed := removedKeys()
	for _, key := range slices.Sorted(maps.Keys(removed)) {
		env := EnvPrefix + strings.ToUpper(key)
		if v := getenv(env); v != "" {
			return &Error{Key: key, Value: v, Source: "env " + env, Reason: removed[key]}
		}
	}
	for _, field := range Fields() {
		v := getenv(field.Env())
		if v == "" {
			continue
		}
		if err := field.set(cfg, v); err != nil {
			return &Error{Key: field.Key, Value: v, Source: "env " + field.Env(), Reason: err.Error()}
		}
	}
	return nil
}

// LoadFile reads a TOML (.toml) or YAML (.yaml, .yml) file over cfg. Keys are
// the field keys; an unknown key is an error, so a typo does not go
// unnoticed.
func LoadFile(path string, cfg *Config) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	values := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		if _, err := toml.Decode(string(raw), &values); err != nil {
			return fmt.Errorf("config: %s: %w", path, err)
		}
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&values); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("config: %s: %w", path, err)
		}
	default:
		return fmt.Errorf("config: %s: unknown file type %q, want .toml, .yaml or .yml", path, filepath.Ext(path))
	}
	byKey := map[string]Field{}
	for _, f := range Fields() {
		byKey[f.Key] = f
	}
	source := "file " + path
	for _, k := range slices.Sorted(maps.Keys(values)) {
		field, ok := byKey[k]
		if !ok {
			reason := "unknown key"
			if hint, removed := removedKeys()[k]; removed {
				reason = hint
			}
			return &Error{Key: k, Value: fmt.Sprint(values[k]), Source: source, Reason: reason}
		}
		var text string
		switch v := values[k].(type) {
		case string:
			text = v
		case bool:
			if !field.isBool {
				return &Error{Key: k, Value: fmt.Sprint(v), Source: source, Reason: "want a string"}
			}
			text = strconv.FormatBool(v)
		case int64, int, uint64:
			if !field.isInt {
				return &Error{Key: k, Value: fmt.Sprint(v), Source: source, Reason: "want a string"}
			}
			text = fmt.Sprint(v)
		case []any:
			if !field.isList {
				return &Error{Key: k, Value: fmt.Sprint(v), Source: source, Reason: "want a string, not a list"}
			}
			items := make([]string, len(v))
			for i, item := range v {
				s, ok := item.(string)
				if !ok {
					return &Error{Key: k, Value: fmt.Sprint(v), Source: source, Reason: "want a list of strings"}
				}
				items[i] = s
			}
			text = strings.Join(items, ",")
		default:
			return &Error{Key: k, Value: fmt.Sprint(v), Source: source, Reason: fmt.Sprintf("want a string, not %T", v)}
		}
		if err := field.set(cfg, text); err != nil {
			return &Error{Key: k, Value: text, Source: source, Reason: err.Error()}
		}
	}
	return nil
}
