package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
)

// views are the pages; each is parsed with the layout, once, at start.
var views = []string{"signin", "error", "judge", "scoresheet", "categories", "board", "emcee", "contestant", "signin_link", "judges", "audience"}

func (a *App) parseViews() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u := a.assetURL(name)
			if u == "" {
				return "", fmt.Errorf("no static file %q", name)
			}
			return u, nil
		},
		"num":        decimalText,
		"ordinal":    ordinal,
		"capitalise": capitalise,
		"lower":      strings.ToLower,
		"stepName": func(step string) string {
			return strings.ReplaceAll(strings.ToLower(step), "_", " ")
		},
	}
	layout, err := fs.ReadFile(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*template.Template, len(views))
	for _, v := range views {
		body, err := fs.ReadFile(templateFS, path.Join("templates", v+".html"))
		if err != nil {
			return nil, err
		}
		t, err := template.New(v).Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", v, err)
		}
		out[v] = t
	}
	return out, nil
}

// decimalText writes a decimal of the database as a judge reads it (9.50 as 9.5).
func decimalText(v any) string {
	switch x := v.(type) {
	case *json.Number:
		if x == nil {
			return ""
		}
		return trimDecimal(x.String())
	case json.Number:
		return trimDecimal(x.String())
	}
	return trimDecimal(fmt.Sprint(v))
}
