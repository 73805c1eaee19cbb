package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// demoNightAccounts are the people of the demo's ready category, one account each; they share one
// password, printed once when the demo tenant is created.
var demoNightAccounts = []struct {
	email, name string
	role        auth.Role
	judge       bool
}{
	{"judge1@demo.test", "Ada Judge", auth.Judge, true},
	{"judge2@demo.test", "Ben Judge", auth.Judge, true},
	{"judge3@demo.test", "Cleo Judge", auth.Judge, true},
	{"tally@demo.test", "Tess Tally", auth.TallyMaster, false},
	{"auditor@demo.test", "Aldo Auditor", auth.Auditor, false},
	{"board@demo.test", "Bea Board", auth.Board, false},
	{"emcee@demo.test", "Emil Emcee", auth.Emcee, false},
	{"contestant@demo.test", "Nina Novak", auth.Contestant, false},
}

// createDemoNight adds tonight's event with a ready category: criteria, six contestants in
// running order, three judges assigned (each signed in by a JUDGE account), and one account for
// every other role of the night. It returns the accounts' shared password.
func createDemoNight(ctx context.Context, st *store.Store, tenantID string, a store.Actor) (string, error) {
	start := time.Now().UTC().Truncate(time.Hour)
	ev, err := st.CreateEvent(ctx, tenantID, a, store.EventInput{Name: "Demo Night", Location: "Main Stage",
		Description: "A ready category to try the web app", StartDate: start, EndDate: start.Add(4 * time.Hour)})
	if err != nil {
		return "", err
	}
	ct, err := st.CreateContest(ctx, tenantID, ev.ID, a, store.ContestInput{Name: "Vocal"})
	if err != nil {
		return "", err
	}
	scoreCap := "25"
	cat, err := st.CreateCategory(ctx, tenantID, ct.ID, a, store.CategoryInput{Name: "Solo Ballad", ScoreCap: &scoreCap})
	if err != nil {
		return "", err
	}
	for i, c := range []struct{ name, max string }{{"Technique", "10"}, {"Musicality", "10"}, {"Stage presence", "5"}} {
		pos := int32(i)
		if _, err := st.CreateCriterion(ctx, tenantID, cat.ID, a, store.CriterionInput{Name: c.name, MaxScore: c.max, Position: &pos}); err != nil {
			return "", err
		}
	}
	singers := []struct{ name, bio string }{
		{"Nina Novak", "Choir soloist from the old town; sings Fauré."},
		{"Omar Haddad", "Jazz student, first time on this stage."},
		{"Lena Fischer", "Opera chorus member since 2019."},
		{"Tom Brennan", "Busker turned songwriter."},
		{"Mei Lin", "Last year's audience favourite."},
		{"Rui Costa", "Fado singer; brings his own guitarist."},
	}
	for i, s := range singers {
		num := int32(i + 1)
		email := strings.ToLower(strings.Fields(s.name)[0]) + ".singer@demo.test"
		if i == 0 {
			email = "contestant@demo.test" // the CONTESTANT account sees this singer's results
		}
		c, err := st.CreateContestant(ctx, tenantID, a, store.ContestantInput{Name: s.name, Number: &num, Email: &email, Bio: s.bio})
		if err != nil {
			return "", err
		}
		if _, _, err := st.EnterContestant(ctx, tenantID, cat.ID, c.ID, a); err != nil {
			return "", err
		}
	}
	password := auth.RandomPassword()
	for _, acc := range demoNightAccounts {
		u, err := st.CreateUser(ctx, tenantID, a, store.NewUser{Email: acc.email, Name: acc.name, Password: password, Role: acc.role})
		if err != nil {
			return "", err
		}
		if !acc.judge {
			continue
		}
		j, err := st.CreateJudge(ctx, tenantID, a, store.JudgeInput{Name: acc.name, UserID: &u.ID})
		if err != nil {
			return "", err
		}
		if _, err := st.CreateAssignment(ctx, tenantID, a, j.ID, cat.ID, store.AssignmentActive); err != nil {
			return "", err
		}
	}
	return password, nil
}

// printDemoNight tells how to open the web app and who may sign in.
func printDemoNight(w io.Writer, port int, password string) {
	fmt.Fprintf(w, "The web app: http://localhost:%d/ (organisation %q). The \"Demo Night\" category \"Solo Ballad\" is ready:\n", port, demoSlug)
	for _, acc := range demoNightAccounts {
		fmt.Fprintf(w, "  %-22s %s\n", acc.email, strings.ToLower(strings.ReplaceAll(string(acc.role), "_", " ")))
	}
	if password != "" {
		fmt.Fprintf(w, "They all sign in with the password %q (printed only now). Open a judge and the tally master in two browser windows.\n\n", password)
	} else {
		fmt.Fprint(w, "Their password was printed when the demo tenant was created.\n\n")
	}
}
