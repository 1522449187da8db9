package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestMask(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{"one", []string{"hunter22"}, "password is hunter22.", "password is ******."},
		{"repeated", []string{"hunter22"}, "hunter22 and hunter22 again", "****** and ****** again"},
		{"back to back", []string{"hunter22"}, "xhunter22hunter22y", "x******y"},
		{"self-overlapping", []string{"abab"}, "ababab", "******"},
		{"overlapping values", []string{"abcdef", "defghi"}, "[abcdefghi]", "[******]"},
		{"overlapping values reversed", []string{"defghi", "abcdef"}, "[abcdefghi]", "[******]"},
		{"nested: longest covers", []string{"token", "token-extended"}, "a token-extended b token c", "a ****** b ****** c"},
		{"prefix of another", []string{"secret1", "secret123"}, "secret123 secret1", "****** ******"},
		{"unicode", []string{"pässwörd✓"}, "é pässwörd✓ ü", "é ****** ü"},
		{"unicode inside unicode", []string{"日本語の秘密"}, "前日本語の秘密後", "前******後"},
		{"emoji", []string{"🔑key🔑"}, "x🔑key🔑y", "x******y"},
		{"multi-line", []string{"line1\nline2"}, "a line1\nline2 b", "a ****** b"},
		{"too short ignored", []string{"abc", ""}, "abc abc", "abc abc"},
		{"exactly min length", []string{"abcd"}, "abcd", "******"},
		{"no match", []string{"hunter22"}, "nothing here", "nothing here"},
		{"empty text", []string{"hunter22"}, "", ""},
		{"json escaped quote", []string{`pa"ss\word`}, `{"v":"pa\"ss\\word"}`, `{"v":"******"}`},
		{"json escaped html", []string{"a<b>&c"}, `{"v":"a\u003cb\u003e\u0026c"}`, `{"v":"******"}`},
		{"json escaped newline", []string{"one\ntwo"}, `"one\ntwo"`, `"******"`},
		{"case differs", []string{"Hunter22"}, "hunter22", "hunter22"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMasker(c.values...)
			if got := m.Mask(c.in); got != c.want {
				t.Fatalf("Mask(%q) = %q, want %q", c.in, got, c.want)
			}
			in := []byte(c.in)
			if got := m.MaskBytes(in); string(got) != c.want {
				t.Fatalf("MaskBytes(%q) = %q, want %q", c.in, got, c.want)
			}
			if string(in) != c.in {
				t.Fatalf("MaskBytes modified its input to %q", in)
			}
		})
	}
}

func TestMaskJSONEncodedOutput(t *testing.T) {
	secret := "s3cr\"et<&>\\\t✓"
	m := NewMasker(secret)
	for _, html := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(map[string]string{"out": "value " + secret}); err != nil {
			t.Fatal(err)
		}
		got := m.Mask(buf.String())
		if want := `{"out":"value ******"}` + "\n"; got != want {
			t.Fatalf("escapeHTML=%v: Mask = %q, want %q", html, got, want)
		}
	}
}

func TestZeroMasker(t *testing.T) {
	var m Masker
	if got := m.Mask("hunter22"); got != "hunter22" {
		t.Fatalf("zero Masker changed %q", got)
	}
	if got := m.MaskBytes([]byte("hunter22")); string(got) != "hunter22" {
		t.Fatalf("zero Masker changed %q", got)
	}
	m.Add("hunter22", "hunter22")
	if m.Len() != 1 {
		t.Fatalf("Len = %d after adding one value twice", m.Len())
	}
	if got := m.Mask("hunter22"); got != Mask {
		t.Fatalf("Mask after Add = %q", got)
	}
}

// TestMaskerConcurrent masks from many goroutines while others add values;
// run under -race.
func TestMaskerConcurrent(t *testing.T) {
	m := NewMasker("initial-secret")
	var wg sync.WaitGroup
	const adders, maskers, rounds = 4, 8, 200
	for a := range adders {
		wg.Go(func() {
			for r := range rounds {
				m.Add(fmt.Sprintf("added-%d-%d", a, r))
			}
		})
	}
	errs := make(chan string, maskers)
	for range maskers {
		wg.Go(func() {
			for r := range rounds {
				line := fmt.Sprintf("round %d: initial-secret then []byte", r)
				if got := m.Mask(line); strings.Contains(got, "initial-secret") {
					errs <- got
					return
				}
				if got := m.MaskBytes([]byte(line)); bytes.Contains(got, []byte("initial-secret")) {
					errs <- string(got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("secret not masked: %q", e)
	}
	for a := range adders {
		v := fmt.Sprintf("added-%d-%d", a, rounds-1)
		if got := m.Mask("x " + v + " y"); got != "x ****** y" {
			t.Fatalf("after concurrent adds, Mask = %q", got)
		}
	}
}
