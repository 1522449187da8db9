package cli

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tenantgate/tenantgate/auth"
)

// stdin is where passwords are read from: the process's standard input.
// Tests replace it.
var stdin io.Reader = os.Stdin

var hashCommand = command{
	name:     "hash",
	synopsis: "hash [--password-stdin] [--cost N]",
	about: `Prints the bcrypt hash of a password, for the hash field of
internal_users.yml (like OpenSearch Security's hash.sh). The password is
read from the terminal without echo (typed twice), or with
--password-stdin from the first line of standard input:

  printf '%s\n' "$PASSWORD" | tenantgate hash --password-stdin

It is never taken from a flag, where other users could read it.`,
}

// hashCmd runs "tenantgate hash".
func hashCmd(args []string, stdout, stderr io.Writer) error {
	fs := hashCommand.flags()
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of the terminal")
	cost := fs.Int("cost", auth.DefaultPasswordCost, "the bcrypt `cost`, 4 to 31: each step doubles the time a check takes")
	if err := hashCommand.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	var pw string
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("hash: reading standard input: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return usageError{errors.New("hash: standard input holds no password")}
		}
	} else {
		var err error
		if pw, err = readSecret(stderr, "Password: "); err != nil {
			return usageError{fmt.Errorf("hash: %w; pass --password-stdin to read it from standard input", err)}
		}
		again, err := readSecret(stderr, "Retype password: ")
		if err != nil {
			return usageError{fmt.Errorf("hash: %w", err)}
		}
		if subtle.ConstantTimeCompare([]byte(pw), []byte(again)) != 1 {
			return usageError{errors.New("hash: the passwords differ")}
		}
	}
	h, err := auth.HashPassword(pw, *cost)
	if err != nil {
		return usageError{fmt.Errorf("hash: %w", err)}
	}
	fmt.Fprintln(stdout, h)
	return nil
}

// errNoTerminal means a secret was to be asked for but standard input is
// not a terminal.
var errNoTerminal = errors.New("standard input is not a terminal")

// readSecret prompts on stderr and reads one line from the terminal on
// standard input with echo turned off. Echo is turned off with stty
// (golang.org/x/term is not among the module's dependencies); it is
// turned back on when the line is read or the process is interrupted.
func readSecret(stderr io.Writer, prompt string) (string, error) {
	f, ok := stdin.(*os.File)
	if !ok {
		return "", errNoTerminal
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return "", errNoTerminal
	}
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("cannot turn off echo on the terminal (stty: %v)", err)
	}
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sig:
			// Interrupted with echo off: give the terminal back as it was.
			_ = stty("echo")
			fmt.Fprintln(stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	defer func() {
		signal.Stop(sig)
		close(done)
		_ = stty("echo")
		fmt.Fprintln(stderr)
	}()
	fmt.Fprint(stderr, prompt)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given")
	}
	return line, nil
}
