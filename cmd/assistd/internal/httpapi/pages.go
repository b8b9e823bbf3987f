package httpapi

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// webFiles are the pages people open: plain HTML, CSS and JavaScript
// modules, no build step, one directory per page under web/, shared parts
// in web/common/.
//
//go:embed web
var webFiles embed.FS

// pageCSP is the Content-Security-Policy of every page: nothing from
// other origins, no inline script or style, WebSocket and media only from
// the gateway itself.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob: data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pages serves the embedded pages under /ui/. The files themselves hold no
// data: each page asks for a bearer token and calls the JSON APIs with it.
func pages() echo.HandlerFunc {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	files := http.StripPrefix("/ui/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		p := c.Request().URL.Path
		if p == "/ui" {
			return c.Redirect(http.StatusMovedPermanently, "/ui/home/")
		}
		if p == "/ui/" {
			return c.Redirect(http.StatusFound, "/ui/home/")
		}
		if strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".mjs") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
