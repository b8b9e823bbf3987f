package grounding

import "testing"

// unsupported marks a case whose sentence must be flagged (any type).
var unsupported = []FlagType{}

// TestEverydayPhrasing checks colloquial turns and clinical shorthand in
// the three languages: approximations (kolmisen, ett par, a couple of),
// "joka ilta", both sides, pack-years, a non-smoker written with a hyphen.
func TestEverydayPhrasing(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"case 1", "fi", []string{"P: Mulla on ollu kuumetta kolmisen päivää, mut ei oo yskää."}, "Kuumetta n. 3 vrk, ei yskää.", nil, nil},
		{"case 2", "fi", []string{"P: Mulla on ollu kuumetta kolmisen päivää, mut ei oo yskää."}, "Kuumetta ja yskää 3 vrk.", nil, unsupported},
		{"case 3", "fi", []string{"P: Mulla on ollu kuumetta kolmisen päivää, mut ei oo yskää."}, "Kuumetta 5 vrk.", nil, unsupported},
		{"case 4", "fi", []string{"L: Nilkat ovat turvoksissa molemmin puolin."}, "Todettiin molemminpuolista nilkkaturvotusta.", nil, nil},
		{"case 5", "fi", []string{"L: Nilkat ovat turvoksissa molemmin puolin."}, "Vasemman nilkan turvotusta.", nil, unsupported},
		{"case 6", "sv", []string{"P: Jag har haft ont i magen ett par dagar."}, "Buksmärta sedan 2 dagar.", nil, nil},
		{"case 7", "sv", []string{"P: Jag har haft ont i magen ett par dagar."}, "Buksmärta sedan 2 veckor.", nil, unsupported},
		{"case 8", "fi", []string{"L: Otetaan Panadol 1 g joka ilta."}, "Panadol 1 g iltaisin.", nil, nil},
		{"case 9", "fi", []string{"L: Otetaan Panadol 1 g joka ilta."}, "Panadol 1 g aamuisin.", nil, unsupported},
		{"case 10", "en", []string{"P: It's been going on for a couple of weeks."}, "Two-week history.", nil, nil},
		{"case 11", "en", []string{"P: It's been going on for a couple of weeks."}, "Three-week history.", nil, unsupported},
		{"case 12", "sv", []string{"L: Patienten röker tio cigaretter per dag sedan trettio år."}, "Rökare, 10 cig/dag i 30 år.", nil, nil},
		{"case 13", "sv", []string{"L: Patienten röker tio cigaretter per dag sedan trettio år."}, "Rökare, 20 cig/dag.", nil, unsupported},
		{"case 14", "sv", []string{"L: Patienten röker tio cigaretter per dag sedan trettio år."}, "Icke-rökare.", nil, unsupported},
	})
}
