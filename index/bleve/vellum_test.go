package bleve

import vre "github.com/blevesearch/vellum/regexp"

// vellumRegexp compiles re as Bleve's scorch index does.
func vellumRegexp(re string) (*vre.Regexp, error) { return vre.New(re) }
