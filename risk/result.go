package risk

// Result is the outcome of one assessment. Same knowledge base and same
// input give the same Result, in the same order.
type Result struct {
	// KBVersion identifies the knowledge base that produced the flags.
	KBVersion string `json:"kb_version"`
	// Drugs reports how each input medicine was resolved, in input order.
	Drugs  []ResolvedDrug `json:"drugs"`
	Kidney Kidney         `json:"kidney"`
	// ACBTotal is the anticholinergic burden score of the list (distinct
	// substances); FRIDCount the number of distinct fall-risk-increasing
	// substances.
	ACBTotal  int `json:"acb_total"`
	FRIDCount int `json:"frid_count"`
	// Flags are ordered by severity (high first), category, rule id and
	// the position of the first involved drug.
	Flags []Flag `json:"flags"`
	// Notes list what could not be assessed and why.
	Notes []Note `json:"notes"`
}

// ResolvedDrug is one input medicine after resolution.
type ResolvedDrug struct {
	Index int    `json:"index"`         // position in Input.Drugs
	Input string `json:"input"`         // the code or name as given
	Ref   string `json:"ref,omitempty"` // echoed from the input
	New   bool   `json:"new,omitempty"` // being started now
	ATC   string `json:"atc,omitempty"` // resolved level-5 code; empty if unrecognised
	// Method says how the code was found; Matched is the catalogue name
	// that matched (for name look-ups).
	Method  MatchMethod `json:"method"`
	Matched string      `json:"matched,omitempty"`
	// Known is true when the substance is in the catalogue (names, ACB
	// score). Class-based rules still apply to well-formed codes that are
	// not in the catalogue.
	Known       bool     `json:"known"`
	NameEN      string   `json:"name_en,omitempty"`
	NameFI      string   `json:"name_fi,omitempty"`
	ACB         int      `json:"acb"`
	Classes     []string `json:"classes,omitempty"`
	FRIDClasses []string `json:"frid_classes,omitempty"`
	// Dose is how the dosing was read (nil when none was given).
	Dose *DoseReading `json:"dose,omitempty"`
}

// DisplayName is the name to show: the catalogue name in lang, else the
// input text or code.
func (d ResolvedDrug) DisplayName(lang string) string {
	switch {
	case lang == "fi" && d.NameFI != "":
		return d.NameFI
	case d.NameEN != "":
		return d.NameEN
	case d.ATC != "":
		return d.ATC
	}
	return d.Input
}

// Flag is one fired rule.
type Flag struct {
	// Key identifies the flag within a result: the rule id, plus ":" and
	// the ATC group or substance for duplication rules that can fire more
	// than once ("DUP-ATC4-01:M01AE").
	Key         string        `json:"key"`
	RuleID      string        `json:"rule_id"`
	Category    Category      `json:"category"`
	Severity    Severity      `json:"severity"`
	Title       Text          `json:"title"`
	Drugs       []FlagDrug    `json:"drugs"`
	Basis       Basis         `json:"basis"`
	Mechanism   string        `json:"mechanism"`
	Explanation Text          `json:"explanation"`
	Action      Text          `json:"action"`
	Sources     []CitedSource `json:"sources"`
}

// FlagDrug is a medicine involved in a flag.
type FlagDrug struct {
	Index  int    `json:"index"`
	ATC    string `json:"atc"`
	NameEN string `json:"name_en"`
	NameFI string `json:"name_fi"`
	Ref    string `json:"ref,omitempty"`
	New    bool   `json:"new,omitempty"`
}

// Name returns the drug name in lang.
func (d FlagDrug) Name(lang string) string {
	if lang == "fi" && d.NameFI != "" {
		return d.NameFI
	}
	if d.NameEN != "" {
		return d.NameEN
	}
	return d.ATC
}

// Basis records the patient facts and scores a flag rests on.
type Basis struct {
	Age        *int         `json:"age,omitempty"`
	Kidney     *KidneyBasis `json:"kidney,omitempty"`
	Conditions []string     `json:"conditions,omitempty"` // matched ICD-10 codes (dotless)
	Falls      bool         `json:"falls,omitempty"`
	ACBTotal   int          `json:"acb_total,omitempty"`
	Count      int          `json:"count,omitempty"` // distinct substances counted
	Group      string       `json:"group,omitempty"` // ATC group or substance (duplication)
	// Dose is the daily dose compared with the rule's limit.
	Dose *DoseBasis `json:"dose,omitempty"`
	// DurationDays is the length of use a duration rule fired on.
	DurationDays *float64 `json:"duration_days,omitempty"`
	// AsNeeded records that the rule fired on as-needed use.
	AsNeeded bool `json:"as_needed,omitempty"`
	// WeightKg and CreatinineUmolL are the values weight or creatinine
	// criteria were met with; Met lists the conditions of an "N of"
	// criterion that held.
	WeightKg        *float64 `json:"weight_kg,omitempty"`
	CreatinineUmolL *float64 `json:"creatinine_umol_l,omitempty"`
	Met             []string `json:"met,omitempty"`
}

// DoseBasis is a daily dose above a rule's limit.
type DoseBasis struct {
	Daily DailyDose `json:"daily"`
	// Above is the limit the daily dose exceeds (same unit).
	Above float64 `json:"above"`
	// Read is how the daily dose was read from the input.
	Read string `json:"read,omitempty"`
}

// KidneyBasis is the kidney value a renal condition was tested against.
type KidneyBasis struct {
	Measure string  `json:"measure"` // "egfr" or "crcl"
	Value   float64 `json:"value"`
	// Substituted is true when the rule asks for CrCl but only eGFR was
	// available.
	Substituted bool `json:"substituted,omitempty"`
}

// CitedSource is a source with the section a rule cites.
type CitedSource struct {
	Source
	Section string `json:"section,omitempty"`
}

// NoteReason classifies a "not assessable" or resolution note.
type NoteReason string

const (
	NoteUnrecognisedDrug      NoteReason = "unrecognised_drug"
	NoteNotInCatalogue        NoteReason = "not_in_catalogue"
	NoteNameATCMismatch       NoteReason = "name_atc_mismatch"
	NoteMissingKidneyFunction NoteReason = "missing_kidney_function"
	NoteMissingAge            NoteReason = "missing_age"
	NoteMissingConditions     NoteReason = "missing_conditions"
	NoteMissingFallsHistory   NoteReason = "missing_falls_history"
	NoteDoseNotUnderstood     NoteReason = "dose_not_understood"
	NoteMissingDose           NoteReason = "missing_dose"
	NoteMissingDuration       NoteReason = "missing_duration"
	NoteMissingWeight         NoteReason = "missing_weight"
	NoteMissingCreatinine     NoteReason = "missing_creatinine"
	// NoteMedicationsNotProvided is added by adapters (CDS Hooks) when
	// the caller did not send the current medication list.
	NoteMedicationsNotProvided NoteReason = "current_medications_not_provided"
)

// MedicationsNotProvidedNote is the note an adapter adds when only draft
// orders were sent, without the current medication list.
func MedicationsNotProvidedNote() Note {
	return Note{Reason: NoteMedicationsNotProvided, Message: Text{
		EN: "Current medications not provided: the EHR did not send the medication list (prefetch medicationRequests/medicationStatements), so only the draft orders were assessed; interactions with current medicines are unknown.",
		FI: "Nykyistä lääkitystä ei saatu: potilastietojärjestelmä ei lähettänyt lääkelistaa (prefetch medicationRequests/medicationStatements), joten vain luonnosmääräykset arvioitiin; yhteisvaikutuksia nykyisten lääkkeiden kanssa ei tiedetä.",
	}}
}

// noteOrder is the display order of note reasons.
var noteOrder = []NoteReason{
	NoteUnrecognisedDrug, NoteNameATCMismatch, NoteNotInCatalogue, NoteMissingKidneyFunction,
	NoteMissingAge, NoteMissingConditions, NoteMissingFallsHistory, NoteDoseNotUnderstood, NoteMissingDose,
	NoteMissingDuration, NoteMissingWeight, NoteMissingCreatinine,
}

// Note says what could not be assessed, for which drugs and rules.
type Note struct {
	Reason  NoteReason `json:"reason"`
	Message Text       `json:"message"`
	Drugs   []int      `json:"drugs,omitempty"` // indexes into Result.Drugs
	Rules   []string   `json:"rules,omitempty"` // rules not assessed
}

var noteMessages = map[NoteReason]Text{
	NoteUnrecognisedDrug: {
		EN: "Some medicines were not recognised; no rule was checked for them.",
		FI: "Osaa lääkkeistä ei tunnistettu; niille ei tarkistettu yhtään sääntöä.",
	},
	NoteNameATCMismatch: {
		EN: "The name given does not match the ATC code; the ATC code was used.",
		FI: "Annettu nimi ei vastaa ATC-koodia; arvioinnissa käytettiin ATC-koodia.",
	},
	NoteNotInCatalogue: {
		EN: "Some ATC codes are not in the drug catalogue: class rules were checked, but the anticholinergic score is unknown.",
		FI: "Osa ATC-koodeista puuttuu lääkeluettelosta: ryhmäsäännöt tarkistettiin, mutta antikolinergistä kuormaa ei tunneta.",
	},
	NoteMissingKidneyFunction: {
		EN: "Kidney function was not available (eGFR, or creatinine with age and sex); kidney-dependent rules were not assessed.",
		FI: "Munuaisten toimintaa ei tiedetty (eGFR tai kreatiniini sekä ikä ja sukupuoli); munuaistoiminnasta riippuvia sääntöjä ei arvioitu.",
	},
	NoteMissingAge: {
		EN: "Age was not given; age-dependent rules were not assessed.",
		FI: "Ikää ei annettu; iästä riippuvia sääntöjä ei arvioitu.",
	},
	NoteMissingConditions: {
		EN: "No diagnoses (ICD-10) were given; drug–disease rules were not assessed.",
		FI: "Diagnooseja (ICD-10) ei annettu; lääke–sairaus-sääntöjä ei arvioitu.",
	},
	NoteMissingFallsHistory: {
		EN: "History of falls was not given; fall-history rules were not assessed.",
		FI: "Kaatumishistoriaa ei annettu; kaatumisiin perustuvia sääntöjä ei arvioitu.",
	},
	NoteDoseNotUnderstood: {
		EN: "Some dosing instructions could not be read into a daily dose; they were not guessed (see each medicine's dose problem).",
		FI: "Osasta annosteluohjeita ei voitu päätellä vuorokausiannosta; annosta ei arvattu (ks. lääkkeen annostelun ongelma).",
	},
	NoteMissingDose: {
		EN: "Not assessable: these rules need the dose (daily dose unknown); give the dose and frequency or the dosing text.",
		FI: "Ei arvioitavissa: nämä säännöt tarvitsevat annoksen (vuorokausiannos ei tiedossa); anna annos ja antokerrat tai annosteluohje.",
	},
	NoteMissingWeight: {
		EN: "Body weight was not given; weight-dependent dose rules were not assessed.",
		FI: "Painoa ei annettu; painosta riippuvia annossääntöjä ei arvioitu.",
	},
	NoteMissingCreatinine: {
		EN: "Serum creatinine was not given; creatinine-dependent dose rules were not assessed.",
		FI: "Seerumin kreatiniinia ei annettu; kreatiniinista riippuvia annossääntöjä ei arvioitu.",
	},
	NoteMissingDuration: {
		EN: "Not assessable: these rules depend on how long the medicine has been used; give start (with the assessment date) or duration.",
		FI: "Ei arvioitavissa: nämä säännöt riippuvat käytön kestosta; anna aloituspäivä (ja arviointipäivä) tai kesto.",
	},
}
