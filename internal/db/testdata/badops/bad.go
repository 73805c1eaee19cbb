// Package badops holds db.Op mistakes that TestOpsCheckCatchesMistakes expects the check to find.
// Files under testdata are not built.
package badops

import "github.com/eventmanager/eventmanager/internal/db"

var (
	good       = db.Op{Name: "good.one", Class: db.Simple}
	noClass    = db.Op{Name: "bad.no_class"}
	zeroClass  = db.Op{Name: "bad.zero_class", Class: 0}
	badName    = db.Op{Name: "NoDot", Class: db.Standard}
	name       = "bad.variable"
	notLiteral = db.Op{Name: name, Class: db.Simple}
	duplicate  = db.Op{"good.one", db.Report}
	noName     = db.Op{Class: db.Complex}
)
