package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/gateway"
	"github.com/tenantgate/tenantgate/instance"
)

const usage = `tenantgate: a multi-tenant search and dashboard gateway

Usage:
  tenantgate [serve] [--config FILE]   run the gateway
  tenantgate token --sub USER [--roles r1,r2] [--ttl 1h] [--config FILE]
                                       mint a JWT with the configured HMAC key
  tenantgate keygen --out FILE         write a new random HMAC signing key
  tenantgate sample load --tenant T [--set weblogs|nginx] [--server URL] [--token T]
                                       load a sample data set and its dashboard
  tenantgate tenants create|list|get|update|delete|restore|purge|lock|unlock|freeze|unfreeze
                  --tenant ID [--server URL] [--token T | --user U]
                                       administer the tenants of a running gateway
  tenantgate apply -f FILE [-f FILE …] [--prune] [--dry-run] [--server URL] [--token T]
                                       make a running gateway match security files
                                       (tenants, roles, rolesmapping, internalusers)
  tenantgate snapshot create|list|verify|restore [--repository R | --out DIR|FILE --config FILE]
                                       take, list, check and restore snapshots,
                                       online through a gateway or offline
  tenantgate hash [--password-stdin]   print a bcrypt hash for internal_users.yml
  tenantgate version                   print the version

Every command takes --help. The commands that talk to a running gateway
read TENANTGATE_SERVER, TENANTGATE_TOKEN and TENANTGATE_PASSWORD.

The configuration file may also be named by TENANTGATE_CONFIG; every key
can be overridden by TENANTGATE_<KEY> (see README.md).
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "token":
		err = token(args, stdout, stderr)
	case "keygen":
		err = keygen(args, stdout, stderr)
	case "sample":
		err = sampleCmd(args, stdout, stderr)
	case "tenants":
		err = tenantsCmd(args, stdout, stderr)
	case "apply":
		err = applyCmd(args, stdout, stderr)
	case "snapshot":
		err = snapshotCmd(args, stdout, stderr)
	case "hash":
		err = hashCmd(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "tenantgate", gateway.Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "tenantgate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "tenantgate:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tenantgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// loadConfig loads the file named by --config or TENANTGATE_CONFIG.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		path = os.Getenv("TENANTGATE_CONFIG")
	}
	return config.Load(path, os.Environ())
}

func serve(args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (or TENANTGATE_CONFIG)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	inst, err := instance.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	runErr := inst.Run(ctx, func(addr net.Addr) {
		log.Info("tenantgate listening", "addr", addr.String(), "data_dir", cfg.DataDir, "version", gateway.Version)
	})
	closeErr := inst.Close()
	log.Info("tenantgate stopped")
	return errors.Join(runErr, closeErr)
}

func token(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	cfgPath := fs.String("config", "", "configuration file (or TENANTGATE_CONFIG)")
	sub := fs.String("sub", "", "the user name (subject)")
	roles := fs.String("roles", "", "comma-separated backend roles")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *sub == "" {
		return usageError{errors.New("token: --sub is required")}
	}
	if *ttl <= 0 {
		return usageError{errors.New("token: --ttl must be positive")}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	keys, err := config.ResolveKeys(cfg.Auth.JWT.SigningKeys)
	if err != nil {
		return err
	}
	secret, ok := auth.HMACSecret(keys)
	if !ok {
		return errors.New("token: the configuration has no HMAC key (auth.jwt.signing_keys needs a \"base64:…\" entry); tokens for public-key setups come from your identity provider")
	}
	var roleList []string
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roleList = append(roleList, r)
		}
	}
	tok, err := auth.Mint(auth.MintOptions{
		Secret: secret, Subject: *sub, Roles: roleList, TTL: *ttl,
		Issuer: cfg.Auth.JWT.RequiredIssuer, Audience: cfg.Auth.JWT.RequiredAudience,
		SubjectKey: cfg.Auth.JWT.SubjectKey, RolesKey: cfg.Auth.JWT.RolesKey,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	out := fs.String("out", "", "file to write the key to (refuses to overwrite)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("keygen: --out is required")}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if _, err := fmt.Fprintf(f, "base64:%s\n", base64.StdEncoding.EncodeToString(b[:])); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote a new HMAC signing key to %s\n", *out)
	return nil
}
