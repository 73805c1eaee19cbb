package web

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/eventmanager/eventmanager/internal/store"
)

type judgeHomeData struct {
	Categories []judgeCategoryView
}

type judgeCategoryView struct {
	store.JudgeCategory
	Percent   int
	Certified string // "" or the time, in the venue's zone
}

func (a *App) judgeHome(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "My categories")
	if p.JudgeID == "" {
		a.render(w, r, http.StatusForbidden, "error", page{Title: "Not a judge", User: &p,
			Data: errorData{"Your account is not linked to a judge.", "Ask the organiser to link it, or sign in with a judge's account."}})
		return
	}
	list, err := a.store.JudgeCategories(r.Context(), p.TenantID, p.JudgeID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := judgeHomeData{}
	for _, c := range list {
		v := judgeCategoryView{JudgeCategory: c}
		if c.Required > 0 {
			v.Percent = c.Filled * 100 / c.Required
		}
		if c.CertifiedAt != nil {
			v.Certified = a.clock(*c.CertifiedAt)
		}
		d.Categories = append(d.Categories, v)
	}
	pg.Data = d
	a.render(w, r, http.StatusOK, "judge", pg)
}

// clock is a time of day in the venue's zone ("20:41").
func (a *App) clock(t time.Time) string { return t.In(a.zone).Format("15:04") }

type sheetData struct {
	Sheet     store.Scoresheet
	Rows      []sheetRow
	Certified string
	// Queue is the name of this sheet's queue in the browser: one per tenant, judge and category,
	// so that two judges sharing a tablet never mix their rows.
	Queue  string
	Config string // JSON for the script
	// MaxTotal is the most a row can total: the criteria's maxima, or the category's score cap when
	// that is lower (CapBinds). A cap above what the criteria allow is not shown: "18 / 1000" on a
	// sheet whose rows reach 20 misleads a judge about the scale.
	MaxTotal string
	CapBinds bool
}

type sheetRow struct {
	Order int
	store.SheetContestantRow
	Cells []sheetCell
	Saved string // time of the latest saved cell, "" when none
	Full  bool
}

type sheetCell struct {
	store.SheetCell
	Criterion store.SheetCriterion
	Value     string
}

func (a *App) scoresheetPage(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "Scoresheet", "scoresheet.js")
	id, ok := pathUUID(r)
	if !ok {
		a.renderError(w, r, http.StatusNotFound, "There is no such category.", "Go back to your categories.")
		return
	}
	if p.JudgeID == "" {
		a.render(w, r, http.StatusForbidden, "error", page{Title: "Not a judge", User: &p,
			Data: errorData{"Your account is not linked to a judge.", "Ask the organiser to link it."}})
		return
	}
	sheet, err := a.store.Scoresheet(r.Context(), p.TenantID, id, p.JudgeID, false)
	if err != nil {
		a.storeError(w, r, p, err)
		return
	}
	d := sheetData{Sheet: sheet, Queue: "em.queue.v1." + p.TenantID + "." + p.JudgeID + "." + sheet.CategoryID}
	if sheet.CertifiedAt != nil {
		d.Certified = a.clock(*sheet.CertifiedAt)
	}
	for i, c := range sheet.Contestants {
		row := sheetRow{Order: i + 1, SheetContestantRow: c, Full: true}
		var latest time.Time
		for j, cell := range c.Cells {
			sc := sheetCell{SheetCell: cell, Criterion: sheet.Criteria[j]}
			if cell.Score != nil {
				sc.Value = trimDecimal(cell.Score.String())
				if cell.UpdatedAt != nil && cell.UpdatedAt.After(latest) {
					latest = *cell.UpdatedAt
				}
			} else {
				row.Full = false
			}
			row.Cells = append(row.Cells, sc)
		}
		if !latest.IsZero() {
			row.Saved = a.clock(latest)
		}
		d.Rows = append(d.Rows, row)
	}
	d.MaxTotal, d.CapBinds = maxTotal(sheet)
	cfg, err := json.Marshal(map[string]any{
		"category": sheet.CategoryID, "categoryName": sheet.CategoryName, "queue": d.Queue,
		"cap": sheet.ScoreCap, "certified": sheet.Certified, "zone": a.zone.String(),
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d.Config = string(cfg)
	pg.Title = sheet.CategoryName + ": scoresheet"
	pg.Data = d
	a.render(w, r, http.StatusOK, "scoresheet", pg)
}

// maxTotal is the most a row of sheet can total, and whether the score cap is what limits it.
func maxTotal(sheet store.Scoresheet) (string, bool) {
	var sum float64
	for _, c := range sheet.Criteria {
		f, _ := c.MaxScore.Float64()
		sum += f
	}
	sum = math.Round(sum*100) / 100 // scores have two decimals; drop the float sum's noise
	if sheet.ScoreCap != nil {
		if limit, err := sheet.ScoreCap.Float64(); err == nil && limit < sum {
			return trimDecimal(sheet.ScoreCap.String()), true
		}
	}
	return strconv.FormatFloat(sum, 'f', -1, 64), false
}

// trimDecimal writes 9.50 as 9.5 and 10.00 as 10, as a judge would type them.
func trimDecimal(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
