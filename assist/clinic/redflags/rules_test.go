package redflags

import (
	"slices"
	"strings"
	"testing"
)

func defaultSet(t testing.TB) *Set {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ruleCase is one message and the exact set of flags it must raise
// (rule ids). want == nil means no flag at all.
type ruleCase struct {
	name string
	text string
	want []string
}

// Cases per rule and language: the positive reading, its negation, and
// hard negatives (similar words that are not the red flag).
var ruleCases = []ruleCase{
	// RF-CHEST-01 / RF-CHEST-02
	{"chest/fi/with breathlessness", "Minulla on ollut rintakipua aamusta asti ja hengenahdistusta.", []string{"RF-CHEST-01", "RF-CHEST-02"}},
	{"chest/fi/pressure radiating", "Rintaa puristaa ja kipu säteilee vasempaan käteen.", []string{"RF-CHEST-01", "RF-CHEST-02"}},
	{"chest/fi/alone", "Rintakehässä on pistävää kipua kun nostan kättä.", []string{"RF-CHEST-02"}},
	{"chest/fi/negated", "Ei rintakipua eikä hengenahdistusta, vain yskää.", nil},
	{"chest/fi/post-negated", "Rintakipua ei ole ollut, yskä vaivaa.", nil},
	{"chest/fi/pseudo not a negation", "Rintakipu ei mene ohi levossa.", []string{"RF-CHEST-02"}},
	{"chest/fi/contrast ends scope", "Ei kuumetta, mutta rintakipua ja kylmä hiki.", []string{"RF-CHEST-01", "RF-CHEST-02"}},
	{"chest/sv/with breathlessness", "Jag har tryck över bröstet och andnöd sedan en timme.", []string{"RF-CHEST-01", "RF-CHEST-02"}},
	{"chest/sv/alone", "Jag har haft bröstsmärtor i två dagar.", []string{"RF-CHEST-02"}},
	{"chest/sv/negated", "Ingen bröstsmärta och ingen andnöd, bara hosta.", nil},
	{"chest/sv/pseudo", "Smärtan i bröstet går inte över.", []string{"RF-CHEST-02"}},
	{"chest/en/with sweating", "I have crushing chest pain and I'm sweating a lot.", []string{"RF-CHEST-01", "RF-CHEST-02"}},
	{"chest/en/spreading to jaw", "Pain in my chest that is spreading to my jaw.", []string{"RF-CHEST-01", "RF-CHEST-02"}},
	{"chest/en/negated", "No chest pain or shortness of breath, just a sore throat.", nil},
	{"chest/en/denies", "She denies chest pain.", nil},
	{"chest/en/hypothetical", "What should I do in case I get chest pain again?", nil},
	{"chest/en/pseudo", "The chest pain won't go away.", []string{"RF-CHEST-02"}},
	{"chest/en/hard negative heartburn word", "I have heartburn after meals.", nil},

	// RF-BREATH-01
	{"breath/fi", "En saa henkeä kunnolla ja huulet ovat sinertävät.", []string{"RF-BREATH-01"}},
	{"breath/fi/hard negative nose", "Nenä on tukossa, en saa nukuttua.", nil},
	{"breath/sv", "Mamma kan inte andas ordentligt och läpparna är blå.", []string{"RF-BREATH-01"}},
	{"breath/sv/negated", "Hon andas lugnt, ingen andnöd.", nil},
	{"breath/en", "My son is struggling, he can't breathe properly.", []string{"RF-BREATH-01"}},
	{"breath/en/hard negative", "I can breathe fine, only a blocked nose.", nil},

	// RF-STROKE-01
	{"stroke/fi/face", "Isän suupieli roikkuu ja puhe on puuroutunutta.", []string{"RF-STROKE-01"}},
	{"stroke/fi/arm", "Äidin vasen käsi on yhtäkkiä heikko eikä nouse.", []string{"RF-STROKE-01"}},
	{"stroke/fi/negated", "Ei puhehäiriöitä, ei toispuolista heikkoutta.", nil},
	{"stroke/fi/hard negative carpal tunnel", "Käsi puutuu öisin ja sormia pistelee.", nil},
	{"stroke/sv/face", "Pappas mungipa hänger och han sluddrar.", []string{"RF-STROKE-01"}},
	{"stroke/sv/negated", "Ingen svaghet i armen, talet är normalt.", nil},
	{"stroke/en/arm", "My husband suddenly can't lift his left arm.", []string{"RF-STROKE-01"}},
	{"stroke/en/speech", "Her speech is slurred and her face is drooping.", []string{"RF-STROKE-01"}},
	{"stroke/en/negated", "No facial droop, no slurred speech.", nil},
	{"stroke/en/hard negative gym", "My legs are sore after the gym.", nil},

	// RF-ANAPH-01 / 02
	{"anaph/fi/throat", "Ampiainen pisti ja nyt kurkkua kiristää ja kieli turpoaa.", []string{"RF-ANAPH-01"}},
	{"anaph/fi/trigger and breathing", "Söin pähkinää, tuli nokkosihottumaa ja hengitys vinkuu.", []string{"RF-ANAPH-02"}},
	{"anaph/fi/negated", "Ampiaisen pisto turvotti käden, ei hengitysvaikeutta.", nil},
	{"anaph/sv/throat", "Efter getingsticket svullnar tungan och halsen känns trång.", []string{"RF-ANAPH-01"}},
	{"anaph/sv/negated", "Nässelutslag efter nötter men ingen andnöd och ingen svullnad i läpparna.", nil},
	{"anaph/en/throat", "After eating peanuts my throat is swelling.", []string{"RF-ANAPH-01"}},
	{"anaph/en/lips", "Stung by a wasp, my lips are swollen and I'm wheezing.", []string{"RF-ANAPH-02"}},
	{"anaph/en/negated", "Bee sting on my hand, no swelling of the lips and no trouble breathing.", nil},

	// RF-SUICIDE-01 / 02
	{"suicide/fi/thoughts", "Minulla on ollut itsetuhoisia ajatuksia.", []string{"RF-SUICIDE-01"}},
	{"suicide/fi/plan", "Olen kerännyt unilääkkeitä ja aion tappaa itseni.", []string{"RF-SUICIDE-01", "RF-SUICIDE-02"}},
	{"suicide/fi/negated", "Mieliala on matala, mutta itsetuhoisia ajatuksia ei ole.", nil},
	{"suicide/fi/negated pre", "En ole ajatellut itsemurhaa.", nil},
	{"suicide/fi/hard negative", "Kuolen nälkään, milloin laboratorio aukeaa?", nil},
	{"suicide/sv/thoughts", "Jag vill inte leva längre.", []string{"RF-SUICIDE-01"}},
	{"suicide/sv/plan", "Jag har samlat tabletter och tänker ta mitt liv.", []string{"RF-SUICIDE-01", "RF-SUICIDE-02"}},
	{"suicide/sv/negated", "Inga självmordstankar.", nil},
	{"suicide/en/thoughts", "Sometimes I think I'd be better off dead.", []string{"RF-SUICIDE-01"}},
	{"suicide/en/attempt", "Last night I took all my pills.", []string{"RF-SUICIDE-01", "RF-SUICIDE-02"}},
	{"suicide/en/negated", "I don't want to die, I'm just exhausted.", nil},
	{"suicide/en/hard negative", "This headache is killing me.", nil},

	// RF-SEPSIS-01
	{"sepsis/fi", "Isällä on kova kuume ja hän on sekava.", []string{"RF-SEPSIS-01"}},
	{"sepsis/fi/no urine", "Kuumetta 39,5 eikä ole virtsannut koko päivänä.", []string{"RF-SEPSIS-01"}},
	{"sepsis/fi/negated fever", "Ei kuumetta, hieman sekava olo väsymyksestä.", nil},
	{"sepsis/sv", "Hon har hög feber och skakfrossa.", []string{"RF-SEPSIS-01"}},
	{"sepsis/sv/negated", "Feber men inte förvirrad, kissar som vanligt.", nil},
	{"sepsis/en", "He has a fever and his skin looks mottled.", []string{"RF-SEPSIS-01"}},
	{"sepsis/en/negated", "Fever 38.2, not confused, drinking and peeing normally.", nil},

	// RF-MENING-01 / 02
	{"mening/fi/rash", "Lapsella on ihottuma joka ei häviä lasia painettaessa.", []string{"RF-MENING-01"}},
	{"mening/fi/neck", "Korkea kuume ja niska on jäykkä.", []string{"RF-MENING-02"}},
	{"mening/fi/negated", "Kuumetta on, mutta niska ei ole jäykkä.", nil},
	{"mening/sv/rash", "Barnet har utslag som inte bleknar vid glastestet.", []string{"RF-MENING-01"}},
	{"mening/sv/neck", "Feber och stel nacke sedan i morse.", []string{"RF-MENING-02"}},
	{"mening/en/rash", "My daughter has a rash that doesn't fade under a glass.", []string{"RF-MENING-01"}},
	{"mening/en/negated", "Temperature 38 but no stiff neck.", nil},
	{"mening/en/hard negative", "The rash fades when I press it and she has no fever.", nil},

	// RF-CONSC-01, RF-SEIZURE-01
	{"consc/fi", "Mummo on tajuton eikä herää.", []string{"RF-CONSC-01"}},
	{"consc/sv", "Han är medvetslös.", []string{"RF-CONSC-01"}},
	{"consc/en", "My father is unresponsive.", []string{"RF-CONSC-01"}},
	{"seizure/fi", "Lapsi kouristeli äsken kuumeessa.", []string{"RF-SEIZURE-01"}},
	{"seizure/sv/negated", "Inga kramper.", nil},
	{"seizure/en", "She had a seizure this morning.", []string{"RF-SEIZURE-01"}},

	// RF-BLEED-01 / 02
	{"bleed/fi/vomit", "Oksensin verta kaksi kertaa.", []string{"RF-BLEED-01"}},
	{"bleed/fi/hard negative blood pressure", "Oksensin aamulla, verenpaine on matala.", nil},
	{"bleed/fi/stool", "Uloste on ollut mustaa kolme päivää.", []string{"RF-BLEED-02"}},
	{"bleed/sv", "Jag kräktes blod i natt.", []string{"RF-BLEED-01"}},
	{"bleed/sv/wound", "Såret blöder kraftigt.", []string{"RF-BLEED-01"}},
	{"bleed/en/wound", "The cut is bleeding a lot and won't stop.", []string{"RF-BLEED-01"}},
	{"bleed/en/stool", "I've had black tarry stools since yesterday.", []string{"RF-BLEED-02"}},
	{"bleed/en/negated", "No blood in the vomit.", nil},

	// RF-HEAD-01
	{"head/fi", "Tuli äkillinen räjähtävä päänsärky, elämäni pahin.", []string{"RF-HEAD-01"}},
	{"head/sv", "Plötslig värsta huvudvärken i mitt liv.", []string{"RF-HEAD-01"}},
	{"head/en", "Worst headache of my life, came on in seconds.", []string{"RF-HEAD-01"}},
	{"head/en/hard negative", "Mild headache after a long day at the screen.", nil},

	// RF-TESTIS-01
	{"testis/fi", "Pojalle tuli äkillinen kova kipu kivekseen.", []string{"RF-TESTIS-01"}},
	{"testis/sv", "Plötslig smärta i testikeln sedan en timme.", []string{"RF-TESTIS-01"}},
	{"testis/en", "Sudden severe pain in my testicle.", []string{"RF-TESTIS-01"}},
	{"testis/en/hard negative", "A small painless lump on my testicle.", nil},

	// RF-HEADINJ-01
	{"headinj/fi", "Mummo kaatui ja löi päänsä, nyt hän oksentaa.", []string{"RF-HEADINJ-01"}},
	{"headinj/fi/negated", "Poika löi päänsä jääkiekossa, ei oksentelua eikä sekavuutta.", nil},
	{"headinj/sv", "Han slog huvudet i isen och är förvirrad nu.", []string{"RF-HEADINJ-01"}},
	{"headinj/sv/negated", "Hon slog i huvudet men har inte kräkts.", nil},
	{"headinj/en", "My son hit his head at school and has vomited twice.", []string{"RF-HEADINJ-01"}},
	{"headinj/en/been sick", "She knocked her head on the floor and has been sick.", []string{"RF-HEADINJ-01"}},
	{"headinj/en/hard negative", "I bumped my head on a cupboard, small bruise, feel fine.", nil},

	// RF-INFANT-01
	{"infant/fi", "6 viikon ikäisellä vauvalla on kuumetta 38,2.", []string{"RF-INFANT-01"}},
	{"infant/fi/negated", "Vastasyntyneellä ei ole kuumetta, syö hyvin.", nil},
	{"infant/fi/hard negative older", "8 kuukauden ikäisellä kuumetta 38,5, leikkii.", nil},
	{"infant/sv", "Vår 5 veckor gamla bebis har feber.", []string{"RF-INFANT-01"}},
	{"infant/en", "My 2 month old has a temperature of 38.4.", []string{"RF-INFANT-01"}},
	{"infant/en/hard negative", "My 4 year old has a fever of 38.", nil},

	// RF-PREG-01
	{"preg/fi", "Olen raskaana viikolla 10 ja tänään on tullut vuotoa.", []string{"RF-PREG-01"}},
	{"preg/fi/negated", "Raskausviikko 20, ei vuotoa eikä kipuja.", nil},
	{"preg/sv", "Jag är gravid i vecka 12 och har en blödning.", []string{"RF-PREG-01"}},
	{"preg/en", "I'm 8 weeks pregnant and have some spotting.", []string{"RF-PREG-01"}},
	{"preg/en/negated", "I'm pregnant, no bleeding, just tired.", nil},
}

func TestRules(t *testing.T) {
	s := defaultSet(t)
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Detect([]Message{{Text: tc.text}})
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Rule)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%q: rules %v, want %v (excluded %v)", tc.text, got, tc.want, r.Excluded)
			}
			for _, f := range r.Findings {
				if len(f.Evidence) == 0 || len(f.Sources) == 0 {
					t.Errorf("%s: finding without evidence or sources", f.Rule)
				}
				for _, ev := range f.Evidence {
					if ev.Start < 0 || ev.End <= ev.Start || ev.End > len([]rune(tc.text)) {
						t.Errorf("%s: span %+v outside the message", f.Rule, ev)
					}
				}
			}
		})
	}
}

// Every rule has a positive case in each language: its id appears in a
// case named rule/lang.
func TestEveryRuleHasCases(t *testing.T) {
	s := defaultSet(t)
	for _, r := range s.Rules() {
		langs := map[string]bool{}
		for _, tc := range ruleCases {
			if slices.Contains(tc.want, r.ID) {
				langs[strings.Split(tc.name, "/")[1]] = true
			}
		}
		if len(langs) == 0 {
			t.Errorf("%s: no positive case", r.ID)
		}
	}
}
