package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", dir)
	}
	return dir
}

// TestEveryPackageAndExportedNameIsDocumented parses every non-test Go
// file of the module.
func TestEveryPackageAndExportedNameIsDocumented(t *testing.T) {
	root := repoRoot(t)
	pkgs := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "data" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range pkgs {
		rel, _ := filepath.Rel(root, dir)
		documented := false
		for _, f := range files {
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				documented = true
			}
		}
		if !documented {
			t.Errorf("package %s has no package comment (add a doc.go)", rel)
		}
		for _, f := range files {
			if f.Name.Name == "main" {
				continue
			}
			for _, decl := range f.Decls {
				checkDecl(t, fset, rel, decl)
			}
		}
	}
}

func checkDecl(t *testing.T, fset *token.FileSet, rel string, decl ast.Decl) {
	t.Helper()
	report := func(name string, pos token.Pos, doc *ast.CommentGroup) {
		if !ast.IsExported(name) {
			return
		}
		if doc == nil || !strings.HasPrefix(strings.TrimSpace(doc.Text()), name) {
			p := fset.Position(pos)
			t.Errorf("%s:%d: exported %s needs a doc comment starting with its name", filepath.Join(rel, filepath.Base(p.Filename)), p.Line, name)
		}
	}
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil {
			// Methods of unexported types are not part of the API.
			if !receiverExported(d.Recv) {
				return
			}
		}
		report(d.Name.Name, d.Pos(), d.Doc)
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				doc := s.Doc
				if doc == nil {
					doc = d.Doc
				}
				report(s.Name.Name, s.Pos(), doc)
			case *ast.ValueSpec:
				// A documented group (const or var block) documents its
				// members.
				for _, n := range s.Names {
					doc := s.Doc
					if doc == nil {
						doc = s.Comment
					}
					if doc == nil && d.Lparen.IsValid() && d.Doc != nil {
						continue
					}
					if doc == nil {
						doc = d.Doc
					}
					if doc != nil && d.Lparen.IsValid() {
						continue // a member with any comment in a group
					}
					report(n.Name, n.Pos(), doc)
				}
			}
		}
	}
}

func receiverExported(fl *ast.FieldList) bool {
	if len(fl.List) == 0 {
		return false
	}
	typ := fl.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if idx, ok := typ.(*ast.IndexExpr); ok {
		typ = idx.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && ast.IsExported(id.Name)
}
