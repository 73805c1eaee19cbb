package web

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

type linkData struct {
	Token, Message string
}

// linkPage is what a judge's QR code opens. It does not use the link on GET (a phone's preview or
// a chat's link unfurler would burn it): the judge presses one button, which posts it.
func (a *App) linkPage(w http.ResponseWriter, r *http.Request) {
	d := linkData{Token: r.URL.Query().Get("token")}
	if d.Token == "" {
		d.Message = "This address has no sign-in code. Scan the QR code again, or sign in with your password."
	}
	a.render(w, r, http.StatusOK, "signin_link", page{Title: "Sign in as a judge", Data: d})
}

func (a *App) linkSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		a.renderError(w, r, http.StatusBadRequest, "The form could not be read.", "Scan the QR code again.")
		return
	}
	d := linkData{Token: r.PostForm.Get("token")}
	if crossOrigin.Check(r) != nil {
		d.Message = "This form was sent from another site. Scan the QR code again."
		a.render(w, r, http.StatusForbidden, "signin_link", page{Title: "Sign in as a judge", Data: d})
		return
	}
	sess, err := a.auth.SignInWithLink(w, r, d.Token)
	if err != nil {
		status, msg := signInMessage(err)
		if status == 0 {
			a.fail(w, r, err)
			return
		}
		if status == http.StatusUnauthorized {
			msg = "This sign-in code was already used, has expired or was withdrawn. Ask the organiser for a new QR code, or sign in with your password."
		}
		d.Message, d.Token = msg, ""
		a.render(w, r, status, "signin_link", page{Title: "Sign in as a judge", Data: d})
		return
	}
	a.setSessionCookie(w, r, sess.Token, sess.ExpiresAt)
	http.Redirect(w, r, homeFor(auth.Principal{Role: sess.User.Role, JudgeID: deref(sess.User.JudgeID)}), http.StatusSeeOther)
}

type judgesData struct {
	Judges []store.Judge
}

// judgesPage lists the judges with a button each that shows a fresh sign-in QR code.
func (a *App) judgesPage(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "Judges' sign-in", "judges.js")
	if !auth.CanManageLinks(p.Role) {
		a.render(w, r, http.StatusForbidden, "error", page{Title: "Not for your role", User: &p,
			Data: errorData{"Judges' sign-in codes are handed out by the organisers.", "Go back to the start page."}})
		return
	}
	judges, err := a.store.ListJudges(r.Context(), p.TenantID, 200, nil)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pg.Data = judgesData{Judges: judges}
	a.render(w, r, http.StatusOK, "judges", pg)
}

// audiencePage is the venue's big screen: a shell whose script reads the read-only audience view of
// the link (GET /api/v1/audience?token=) and follows its stream. It needs no sign-in.
func (a *App) audiencePage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "audience", page{Title: "Live", Scripts: []string{"audience.js"}})
}
