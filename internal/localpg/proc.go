package localpg

// verdict is a three-valued answer for process checks that cannot always tell (see postmasterOf).
type verdict int

const (
	unknown verdict = iota
	yes
	no
)
