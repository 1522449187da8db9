// Package doccheck holds a test that keeps the code documented: every
// package has a package comment, and every exported name a doc comment
// that starts with the name.
package doccheck
