package grounding

import "testing"

func TestMedication(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"brand for generic", "fi", []string{"P: Otan Marevania iltaisin."}, "Potilas käyttää varfariinia.", nil, nil},
		{"generic for brand", "en", []string{"P: I take Burana when my back hurts."}, "She takes ibuprofen for back pain.", nil, nil},
		{"swedish generic", "sv", []string{"P: Jag tar kvetiapin på kvällen."}, "Patienten använder kvetiapin till natten.", nil, nil},
		{"finnish inflected", "fi", []string{"P: Metformiinia otan aamuin illoin."}, "Käytössä metformiini aamuin illoin.", nil, nil},
		{"other drug", "en", []string{"P: I take Burana when my back hurts."}, "She takes naproxen for back pain.", nil, []FlagType{FlagMedication}},
		{"invented drug fi", "fi", []string{"P: Otan vain Panadolia tarvittaessa."}, "Käyttää parasetamolia ja tramadolia tarvittaessa.", nil, []FlagType{FlagMedication}},
		{"invented drug sv", "sv", []string{"P: Jag tar Panadol ibland."}, "Patienten tar Panadol och warfarin.", nil, []FlagType{FlagMedication}},
		{"swedish brand", "sv", []string{"P: Jag tar Alvedon vid behov och Waran på kvällen."}, "Paracetamol vid behov, warfarin till kvällen.", nil, nil},
		{"start and stop swapped", "en", []string{"D: We'll stop the lisinopril and start amlodipine 5 mg daily."}, "Start lisinopril, stop amlodipine.", nil, []FlagType{FlagMedication}},
		{"start and stop kept", "fi", []string{"L: Lopetetaan Burana ja aloitetaan Panadol 1 g kolme kertaa päivässä."}, "Burana lopetetaan, aloitetaan parasetamoli 1 g x3.", nil, nil},
		{"start and stop swapped sv", "sv", []string{"L: Vi sätter ut Waran och börjar med Eliquis 5 mg två gånger dagligen."}, "Waran fortsätter.", nil, []FlagType{FlagMedication}},
		{"uncatalogued drug", "en", []string{"P: The doctor gave me amoxicillin last week."}, "Started on azithromycin last week.", nil, []FlagType{FlagMedication}},
	})
}

func TestDose(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"grams to milligrams", "en", []string{"D: Take one gram of paracetamol."}, "Paracetamol 1000 mg.", nil, nil},
		{"micrograms", "en", []string{"D: levothyroxine 0.1 mg in the morning"}, "Levothyroxine 100 mcg in the morning.", nil, nil},
		{"words to digits fi", "fi", []string{"L: Otetaan viisisataa milligrammaa metformiinia."}, "Metformiini 500 mg.", nil, nil},
		{"decimal comma", "sv", []string{"L: Waran 2,5 mg till kvällen."}, "Waran 2.5 mg till kvällen.", nil, nil},
		{"wrong dose", "en", []string{"D: metformin 500 mg twice a day"}, "Metformin 850 mg twice a day.", nil, []FlagType{FlagDose}},
		{"wrong unit", "fi", []string{"L: Panadol 1 g tarvittaessa."}, "Panadol 1 mg tarvittaessa.", nil, []FlagType{FlagDose}},
		{"wrong volume sv", "sv", []string{"L: Ta 10 ml mixtur."}, "Ordinerat 5 ml mixtur.", nil, []FlagType{FlagDose}},
		{"daily total", "fi", []string{"L: Metformiini 500 mg kahdesti päivässä."}, "Metformiini 1000 mg/vrk.", nil, nil},
		{"tablets", "fi", []string{"P: Otan kaksi tablettia illalla."}, "Ottaa 3 tablettia illalla.", nil, []FlagType{FlagDose}},
	})
}

func TestFrequency(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"x2/vrk for kahdesti", "fi", []string{"L: Burana 400 mg kahdesti päivässä."}, "Burana 400 mg x2/vrk.", nil, nil},
		{"bid for twice daily", "en", []string{"D: amoxicillin 500 mg twice daily for a week"}, "Amoxicillin 500 mg p.o. bid for 1 week.", nil, nil},
		{"ggr/dag", "sv", []string{"L: Alvedon 1 g tre gånger om dagen."}, "Alvedon 1 g x 3.", nil, nil},
		{"1+0+1", "fi", []string{"L: Metformiini 500 mg aamuin illoin."}, "Metformiini 500 mg 1+0+1.", nil, nil},
		{"wrong frequency", "en", []string{"D: amoxicillin 500 mg twice daily"}, "Amoxicillin 500 mg three times daily.", nil, []FlagType{FlagFrequency}},
		{"wrong frequency fi", "fi", []string{"L: Burana 400 mg kolme kertaa päivässä."}, "Burana 400 mg x2.", nil, []FlagType{FlagFrequency}},
		{"every other day", "sv", []string{"L: Metotrexat tas varannan dag."}, "Metotrexat tas varje dag.", nil, []FlagType{FlagFrequency}},
		{"joka toinen päivä", "fi", []string{"L: Prednisolonia 5 mg joka toinen päivä."}, "Prednisoloni 5 mg joka päivä.", nil, []FlagType{FlagFrequency}},
		{"invented as-needed sv", "sv", []string{"L: Alvedon 1 g tre gånger om dagen."}, "Alvedon 1 g vid behov.", nil, []FlagType{FlagFrequency}},
	})
}

func TestNumber(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"blood pressure words", "en", []string{"D: Your blood pressure is one hundred twenty over eighty."}, "BP 120/80.", nil, nil},
		{"RR fi", "fi", []string{"L: Verenpaine on satakaksikymmentä per kahdeksankymmentä."}, "RR 120/80.", nil, nil},
		{"sv words", "sv", []string{"L: Blodtrycket är hundratjugofem över åttio."}, "Blodtryck 125/80.", nil, nil},
		{"duration conversion", "en", []string{"P: It started two weeks ago."}, "Symptoms for 14 days.", nil, nil},
		{"age", "fi", []string{"P: Olen 67-vuotias."}, "67-vuotias potilas.", nil, nil},
		{"wrong number", "en", []string{"D: Your blood pressure is one hundred twenty over eighty."}, "BP 130/80.", nil, []FlagType{FlagNumber}},
		{"wrong duration", "sv", []string{"P: Det började för tre dagar sedan."}, "Besvär sedan tre veckor.", nil, []FlagType{FlagNumber}},
		{"implicit one fi", "fi", []string{"L: Kontrolli kahden viikon päästä."}, "Kontrolli kuukauden päästä.", nil, []FlagType{FlagNumber}},
		{"wrong count fi", "fi", []string{"P: Olen kaatunut kaksi kertaa."}, "Kaatunut neljä kertaa.", nil, []FlagType{FlagNumber}},
	})
}

func TestDate(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"weekday inflected", "fi", []string{"P: Kipu alkoi maanantaina."}, "Kipu alkanut maanantaina.", nil, nil},
		{"numeric date", "fi", []string{"L: Kontrolli 3.2. laboratoriossa."}, "Kontrolli 3.2.", nil, nil},
		{"month name en", "en", []string{"D: We'll see you on March 3rd."}, "Follow-up 3 March.", nil, nil},
		{"wrong weekday", "en", []string{"P: It started on Monday."}, "Pain since Tuesday.", nil, []FlagType{FlagDate}},
		{"wrong weekday sv", "sv", []string{"P: Det började i måndags."}, "Besvär sedan fredag.", nil, []FlagType{FlagDate}},
		{"wrong relative day", "fi", []string{"P: Kuume nousi eilen."}, "Kuume noussut toissapäivänä.", nil, []FlagType{FlagDate}},
		{"wrong month", "sv", []string{"L: Återbesök den 5 mars."}, "Återbesök den 5 april.", nil, []FlagType{FlagDate}},
	})
}

func TestLaterality(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"left knee", "en", []string{"P: My left knee is swollen."}, "Swelling of the left knee.", nil, nil},
		{"vasen", "fi", []string{"P: Vasen polvi on turvoksissa."}, "Vasemmassa polvessa turvotusta.", nil, nil},
		{"sv", "sv", []string{"P: Det gör ont i höger axel."}, "Smärta i högra axeln.", nil, nil},
		{"side swapped", "en", []string{"P: My left knee is swollen."}, "Swelling of the right knee.", nil, []FlagType{FlagLaterality}},
		{"side swapped fi", "fi", []string{"P: Oikeaa olkapäätä särkee."}, "Vasemman olkapään särkyä.", nil, []FlagType{FlagLaterality}},
		{"side swapped sv", "sv", []string{"P: Det gör ont i vänster höft."}, "Smärta i höger höft.", nil, []FlagType{FlagLaterality}},
		{"finding on the other side", "en", []string{"P: My left knee is swollen. The right knee is fine, just a bit stiff."}, "Swelling of the right knee.", nil, []FlagType{FlagLaterality}},
		{"finding on the other side fi", "fi", []string{"P: Vasen polvi on turvoksissa, oikea polvi on kunnossa."}, "Oikea polvi turvoksissa.", nil, []FlagType{FlagLaterality}},
		{"sides by site", "en", []string{"P: The left knee hurts and the right shoulder is stiff."}, "Right knee pain.", nil, []FlagType{FlagLaterality}},
	})
}

func TestNegation(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"denies", "en", []string{"D: Any chest pain?", "P: No, none at all."}, "Denies chest pain.", nil, nil},
		{"turned positive", "en", []string{"D: Any chest pain?", "P: No, none at all."}, "Reports chest pain.", nil, []FlagType{FlagNegation}},
		{"turned negative", "en", []string{"P: I've had chest pain since yesterday."}, "No chest pain.", nil, []FlagType{FlagNegation}},
		{"ei rintakipua", "fi", []string{"L: Onko rintakipua?", "P: Ei ole."}, "Ei rintakipua.", nil, nil},
		{"fi turned positive", "fi", []string{"L: Onko rintakipua?", "P: Ei ole."}, "Potilaalla on rintakipua.", nil, []FlagType{FlagNegation}},
		{"fi partitive before ei", "fi", []string{"P: Kuumetta ei ole ollut."}, "Kuumeeton.", nil, nil},
		{"fi turned negative", "fi", []string{"P: Minulla on ollut kuumetta kolme päivää."}, "Ei kuumetta.", nil, []FlagType{FlagNegation}},
		{"ingen bröstsmärta", "sv", []string{"L: Har du ont i bröstet?", "P: Nej."}, "Ingen bröstsmärta.", nil, nil},
		{"sv turned positive", "sv", []string{"L: Har du ont i bröstet?", "P: Nej."}, "Patienten har bröstsmärta.", nil, []FlagType{FlagNegation}},
		{"sv turned negative", "sv", []string{"P: Jag har haft feber i två dagar."}, "Ingen feber.", nil, []FlagType{FlagNegation}},
		{"worse turned better", "en", []string{"P: The rash is getting better with the cream."}, "Rash is worsening despite the cream.", nil, []FlagType{FlagNegation}},
		{"better kept", "fi", []string{"P: Kipu on pahentunut viikon aikana."}, "Kivut pahentuneet viikon aikana.", nil, nil},
		{"better turned worse", "sv", []string{"P: Smärtan har blivit bättre."}, "Smärtan har försämrats.", nil, []FlagType{FlagNegation}},
		{"afebrile", "en", []string{"D: Temperature normal, no fever."}, "Afebrile.", nil, nil},
	})
}

func TestAllergy(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"penicillin", "en", []string{"D: Any allergies?", "P: Penicillin, I get a rash."}, "Allergic to penicillin.", nil, nil},
		{"nkda", "en", []string{"D: Any drug allergies?", "P: No."}, "NKDA.", nil, nil},
		{"invented allergy", "en", []string{"D: Any drug allergies?", "P: No."}, "Allergic to penicillin.", nil, []FlagType{FlagAllergy}},
		{"denied but present", "fi", []string{"P: Olen allerginen penisilliinille."}, "Ei tiedettyjä lääkeaineallergioita.", nil, []FlagType{FlagAllergy}},
		{"fi ok", "fi", []string{"P: Olen allerginen penisilliinille."}, "Penisilliiniallergia.", nil, nil},
		{"sv ok", "sv", []string{"L: Har du några allergier?", "P: Nej, inga."}, "Inga kända allergier.", nil, nil},
		{"sv invented", "sv", []string{"P: Inga allergier som jag vet."}, "Allergisk mot jordnötter.", nil, []FlagType{FlagAllergy}},
	})
}

func TestFinding(t *testing.T) {
	runFlagCases(t, []flagCase{
		{"paraphrase en", "en", []string{"P: I get really winded going up the stairs."}, "Dyspnea on exertion climbing stairs.", nil, nil},
		{"lay to clinical fi", "fi", []string{"P: Päätä särkee ja oksettaa."}, "Päänsärkyä ja pahoinvointia.", nil, nil},
		{"compound fi", "fi", []string{"P: Rinnassa tuntuu kipua rasituksessa."}, "Rasitusrintakipu.", nil, nil},
		{"sv compound", "sv", []string{"P: Jag har ont i ryggen."}, "Ryggsmärta.", nil, nil},
		{"invented finding en", "en", []string{"P: I've had a cough for a week."}, "Cough and fever for a week.", nil, []FlagType{FlagFinding}},
		{"invented finding fi", "fi", []string{"P: Yskää on ollut viikon."}, "Yskää ja hengenahdistusta viikon ajan.", nil, []FlagType{FlagFinding}},
		{"invented finding sv", "sv", []string{"P: Jag har hostat i en vecka."}, "Hosta och kräkningar i en vecka.", nil, []FlagType{FlagFinding}},
		{"abbreviations", "en", []string{"P: I've been short of breath and my heart rate was about ninety."}, "Pt reports SOB, HR 90.", nil, nil},
	})
}

func TestCitations(t *testing.T) {
	c := testChecker(t)
	src := turns("D: What brings you in?", "P: I've had a cough for a week.", "D: Any fever?", "P: No.", "D: Do you smoke?", "P: Yes, ten cigarettes a day.")
	res, err := c.Check("en", src, []Sentence{
		{ID: "a", Text: "Cough for one week."},
		{ID: "b", Text: "No fever.", Cites: []string{"t4"}},
		{ID: "c", Text: "Smokes 10 cigarettes daily.", Cites: []string{"t2"}},
		{ID: "d", Text: "Cough.", Cites: []string{"t99"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Supported || !res[0].Proposed || len(res[0].Cites) == 0 || res[0].Cites[0] != "t2" {
		t.Errorf("proposed cites: %+v", res[0])
	}
	if !res[1].Supported {
		t.Errorf("a cited answer brings its question: %+v", res[1])
	}
	if res[2].Supported {
		t.Errorf("a sentence citing the wrong turn must be flagged: %+v", res[2])
	}
	if res[3].Supported || res[3].Flags[0].Type != FlagCitation {
		t.Errorf("an unknown cite is flagged: %+v", res[3])
	}
}

func TestCheckInvalid(t *testing.T) {
	c := testChecker(t)
	ok := []Source{{ID: "t1", Text: "x"}}
	for name, f := range map[string]func() error{
		"lang":       func() error { _, err := c.Check("de", ok, nil); return err },
		"no sources": func() error { _, err := c.Check("fi", nil, nil); return err },
		"dup source": func() error {
			_, err := c.Check("fi", []Source{{ID: "a", Text: "x"}, {ID: "a", Text: "y"}}, nil)
			return err
		},
		"dup sentence": func() error {
			_, err := c.Check("fi", ok, []Sentence{{ID: "s", Text: "x"}, {ID: "s", Text: "y"}})
			return err
		},
		"empty id": func() error { _, err := c.Check("fi", []Source{{Text: "x"}}, nil); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
