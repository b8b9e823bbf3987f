package clinic

import (
	"regexp"
	"strconv"
	"strings"
)

// doseRe finds a number with a dose unit: "500 mg", "1,5 g", "2 tablettia",
// "10 ml", "1000 IU".
var doseRe = regexp.MustCompile(`(?i)(\d+(?:[.,]\d+)?)\s*(mg|mikrog|µg|μg|mcg|g|ml|iu|ky|tabletti\w*|tablett\w*|tablet\w*|kapseli\w*|kapsel\w*|capsule\w*|tippa\w*|droppar|drops?|annos\w*|dos\w*|doses?)\b`)

var markerRe = regexp.MustCompile(`\[(\d{1,2})\]`)

// citationMarkers returns the passage numbers cited as [n] in text.
func citationMarkers(text string) []int {
	var out []int
	for _, m := range markerRe.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// doseKey normalises a dose to "number unit-stem" ("1.5 g", "2 tablet").
func doseKey(num, unit string) string {
	num = strings.ReplaceAll(num, ",", ".")
	u := strings.ToLower(unit)
	switch {
	case strings.HasPrefix(u, "tablet"):
		u = "tablet"
	case strings.HasPrefix(u, "kapsel"), strings.HasPrefix(u, "capsule"):
		u = "capsule"
	case strings.HasPrefix(u, "tipp"), strings.HasPrefix(u, "dropp"), strings.HasPrefix(u, "drop"):
		u = "drop"
	case strings.HasPrefix(u, "annos"), strings.HasPrefix(u, "dos"):
		u = "dose"
	case u == "mikrog" || u == "µg" || u == "μg" || u == "mcg":
		u = "µg"
	case u == "ky":
		u = "iu"
	}
	return num + " " + u
}

// uncitedDose returns the first dose in text that no cited passage
// states, and false; or "", true when every dose is found.
func uncitedDose(text string, cited []Citation) (string, bool) {
	doses := doseRe.FindAllStringSubmatch(text, -1)
	if len(doses) == 0 {
		return "", true
	}
	have := map[string]bool{}
	for _, c := range cited {
		for _, m := range doseRe.FindAllStringSubmatch(c.Text, -1) {
			have[doseKey(m[1], m[2])] = true
		}
	}
	for _, m := range doses {
		if !have[doseKey(m[1], m[2])] {
			return m[0], false
		}
	}
	return "", true
}
