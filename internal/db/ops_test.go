package db_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// opName is the form of an operation name: "<aggregate>.<action>", lower case.
var opName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// Every Op of the service (outside tests) is a literal with a well-formed name, unique across the
// code base, and one of the four classes: the class is chosen where the query is written, and
// logs and metrics can tell every query apart. The type system already makes a query without an
// Op impossible; this catches an Op without a (valid) class or name, and a name used twice.
func TestOpsAreNamedAndClassed(t *testing.T) {
	t.Parallel()
	ops, problems := checkOps(t, "..") // internal/
	require.Empty(t, problems)
	require.Greater(t, ops, 2, "too few db.Op literals found: is the walk looking in the right place?")
}

// The check finds what it is there to find.
func TestOpsCheckCatchesMistakes(t *testing.T) {
	t.Parallel()
	ops, problems := checkOps(t, filepath.Join("testdata", "badops"))
	require.Equal(t, 7, ops)
	want := []string{
		`operation "bad.no_class" must name its class`,
		`operation "bad.zero_class" must name its class`,
		`operation name "NoDot" is not of the form aggregate.action`,
		`an Op's Name must be a string literal`,
		`operation name "good.one" is already used`,
		`an Op's Name must be a string literal`, // no name at all
	}
	require.Len(t, problems, len(want), strings.Join(problems, "\n"))
	for i, w := range want {
		require.Contains(t, problems[i], w)
	}
}

// checkOps parses the non-test Go files under root and returns how many db.Op literals it found and
// what is wrong with them.
func checkOps(t *testing.T, root string) (ops int, problems []string) {
	t.Helper()
	fset := token.NewFileSet()
	seen := map[string]string{} // name → where
	report := func(where, format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			// What the go tool skips is not built: testdata, and names starting with . or _.
			if n := e.Name(); path != root && (n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inDB := f.Name.Name == "db"
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isOpType(lit.Type, inDB) {
				return true
			}
			ops++
			where := fset.Position(lit.Pos()).String()
			name, class := opFields(lit)
			s, ok := name.(*ast.BasicLit)
			if !ok || s.Kind != token.STRING {
				report(where, "an Op's Name must be a string literal")
				return true
			}
			v, _ := strconv.Unquote(s.Value)
			if !opName.MatchString(v) {
				report(where, "operation name %q is not of the form aggregate.action", v)
			}
			if prev, dup := seen[v]; dup {
				report(where, "operation name %q is already used at %s", v, prev)
			}
			seen[v] = where
			if !isClass(class, inDB) {
				report(where, "operation %q must name its class: db.Simple, db.Standard, db.Complex or db.Report", v)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return ops, problems
}

func isOpType(e ast.Expr, inDB bool) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && pkg.Name == "db" && x.Sel.Name == "Op"
	case *ast.Ident:
		return inDB && x.Name == "Op"
	}
	return false
}

// opFields returns the Name and Class expressions of an Op literal, keyed or not (nil if absent).
func opFields(lit *ast.CompositeLit) (name, class ast.Expr) {
	for i, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			k, _ := kv.Key.(*ast.Ident)
			switch {
			case k == nil:
			case k.Name == "Name":
				name = kv.Value
			case k.Name == "Class":
				class = kv.Value
			}
			continue
		}
		switch i {
		case 0:
			name = el
		case 1:
			class = el
		}
	}
	return name, class
}

func isClass(e ast.Expr, inDB bool) bool {
	var name string
	switch x := e.(type) {
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		if !ok || pkg.Name != "db" {
			return false
		}
		name = x.Sel.Name
	case *ast.Ident:
		if !inDB {
			return false
		}
		name = x.Name
	default:
		return false
	}
	switch name {
	case "Simple", "Standard", "Complex", "Report":
		return true
	}
	return false
}
