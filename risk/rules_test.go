package risk

import (
	"slices"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// pat builds a patient with every fact known, so a rule case produces
// flags and no "not assessable" notes unless it says otherwise.
func pat(age int, egfr float64, conds ...string) Patient {
	if len(conds) == 0 {
		conds = []string{"Z00"}
	}
	return Patient{Age: ptr(age), Sex: "female", EGFR: ptr(egfr), Conditions: conds, Falls: ptr(false)}
}

// drugs builds a medication list from ATC codes; a leading "+" marks a
// new (draft) order and a leading "=" a name instead of a code.
func drugs(codes ...string) []DrugInput {
	out := make([]DrugInput, len(codes))
	for i, c := range codes {
		if strings.HasPrefix(c, "+") {
			out[i].New = true
			c = c[1:]
		}
		if strings.HasPrefix(c, "=") {
			out[i].Name = c[1:]
			continue
		}
		out[i].ATC = c
	}
	return out
}

type ruleCase struct {
	name   string
	in     Input
	want   []string // rule ids that must fire
	absent []string // rule ids that must not fire
}

func in(p Patient, codes ...string) Input { return Input{Drugs: drugs(codes...), Patient: p} }

// used sets drug i's length of use in days.
func used(in Input, i int, days float64) Input {
	in.Drugs[i].Duration = &Duration{Value: days, Unit: "d"}
	return in
}

// prn marks drug i as needed.
func prn(in Input, i int) Input {
	t := true
	in.Drugs[i].AsNeeded = &t
	return in
}

// kg sets the patient's weight.
func kg(in Input, w float64) Input {
	in.Patient.WeightKg = &w
	return in
}

// dosed sets drug i's dosing text.
func dosed(in Input, i int, text string) Input {
	in.Drugs[i].DoseText = text
	return in
}

var ruleCases = []ruleCase{
	// Interactions.
	{"apixaban+ibuprofen", in(pat(50, 90), "B01AF02", "M01AE01"), []string{"DDI-BLEED-01"}, nil},
	{"apixaban+paracetamol", in(pat(50, 90), "B01AF02", "N02BE01"), nil, []string{"DDI-BLEED-01"}},
	{"warfarin+aspirin", in(pat(50, 90), "B01AA03", "B01AC06"), []string{"DDI-BLEED-02"}, nil},
	{"rivaroxaban+escitalopram", in(pat(50, 90), "B01AF01", "N06AB10"), []string{"DDI-BLEED-03"}, nil},
	{"clopidogrel+naproxen", in(pat(50, 90), "B01AC04", "M01AE02"), []string{"DDI-BLEED-04"}, nil},
	{"clopidogrel+naproxen+PPI", in(pat(50, 90), "B01AC04", "M01AE02", "A02BC02"), nil, []string{"DDI-BLEED-04"}},
	{"sertraline+diclofenac", in(pat(50, 90), "N06AB06", "M01AB05"), []string{"DDI-BLEED-05"}, nil},
	{"sertraline+diclofenac+PPI", in(pat(50, 90), "N06AB06", "M01AB05", "A02BC01"), nil, []string{"DDI-BLEED-05"}},
	{"warfarin+fluconazole", in(pat(50, 90), "B01AA03", "J02AC01"), []string{"DDI-BLEED-06"}, nil},
	{"apixaban+fluconazole", in(pat(50, 90), "B01AF02", "J02AC01"), nil, []string{"DDI-BLEED-06"}},
	{"warfarin+amiodarone", in(pat(50, 90), "B01AA03", "C01BD01"), []string{"DDI-BLEED-07"}, nil},
	{"ramipril+spironolactone", in(pat(50, 60), "C09AA05", "C03DA01"), []string{"DDI-K-01"}, []string{"DDI-K-02"}},
	{"ramipril+spironolactone eGFR 25", in(pat(50, 25), "C09AA05", "C03DA01"), []string{"DDI-K-02", "REN-MRA-01"}, []string{"DDI-K-01"}},
	{"losartan+potassium", in(pat(50, 90), "C09CA01", "A12BA01"), []string{"DDI-K-03"}, nil},
	{"spironolactone+potassium", in(pat(50, 90), "C03DA01", "A12BA01"), []string{"DDI-K-04"}, nil},
	{"enalapril+trimethoprim", in(pat(50, 90), "C09AA02", "J01EA01"), []string{"DDI-K-05"}, nil},
	{"ramipril+candesartan", in(pat(50, 90), "C09AA05", "C09CA06"), []string{"DDI-RAAS-01"}, nil},
	{"sacubitril/valsartan+enalapril", in(pat(50, 90), "C09DX04", "C09AA02"), []string{"DDI-RAAS-01"}, nil},
	{"triple whammy", in(pat(50, 90), "C09AA05", "C03CA01", "M01AE01"), []string{"DDI-AKI-01"}, nil},
	{"triple whammy with a fixed combination", in(pat(50, 90), "C09DA01", "M01AE01"), []string{"DDI-AKI-01"}, nil},
	{"ACE inhibitor+NSAID only", in(pat(50, 90), "C09AA05", "M01AE01"), nil, []string{"DDI-AKI-01"}},
	{"citalopram+moclobemide", in(pat(50, 90), "N06AB04", "N06AG02"), []string{"DDI-SERO-01"}, nil},
	{"sertraline+linezolid", in(pat(50, 90), "N06AB06", "J01XX08"), []string{"DDI-SERO-02"}, nil},
	{"venlafaxine+tramadol", in(pat(50, 90), "N06AX16", "N02AX02"), []string{"DDI-SERO-03"}, nil},
	{"escitalopram+sumatriptan", in(pat(50, 90), "N06AB10", "N02CC01"), []string{"DDI-SERO-04"}, nil},
	{"citalopram+duloxetine", in(pat(50, 90), "N06AB04", "N06AX21"), []string{"DDI-SERO-05"}, nil},
	{"citalopram+sertraline supersedes ATC group", in(pat(50, 90), "N06AB04", "N06AB06"), []string{"DDI-SERO-05"}, []string{"DUP-ATC4-01"}},
	{"oxycodone+oxazepam", in(pat(50, 90), "N02AA05", "N05BA04"), []string{"DDI-CNS-01"}, nil},
	{"oxycodone+pregabalin", in(pat(50, 90), "N02AA05", "N03AX16"), []string{"DDI-CNS-02"}, nil},
	{"three CNS drugs at 80", in(pat(80, 90), "N05CF01", "N06AB04", "N03AX12"), []string{"DDI-CNS-03"}, nil},
	{"three CNS drugs at 50", in(pat(50, 90), "N05CF01", "N06AB04", "N03AX12"), nil, []string{"DDI-CNS-03"}},
	{"simvastatin+clarithromycin", in(pat(50, 90), "C10AA01", "J01FA09"), []string{"DDI-CYP-01"}, nil},
	{"rosuvastatin+clarithromycin", in(pat(50, 90), "C10AA07", "J01FA09"), nil, []string{"DDI-CYP-01", "DDI-CYP-03"}},
	{"simvastatin+amiodarone", in(pat(50, 90), "C10AA01", "C01BD01"), []string{"DDI-CYP-02"}, nil},
	{"atorvastatin+itraconazole", in(pat(50, 90), "C10AA05", "J02AC02"), []string{"DDI-CYP-03"}, nil},
	{"apixaban+itraconazole", in(pat(50, 90), "B01AF02", "J02AC02"), []string{"DDI-CYP-04"}, nil},
	{"rivaroxaban+rifampicin", in(pat(50, 90), "B01AF01", "J04AB02"), []string{"DDI-CYP-05"}, nil},
	{"dabigatran+dronedarone", in(pat(50, 90), "B01AE07", "C01BD07"), []string{"DDI-CYP-06"}, nil},
	{"colchicine+clarithromycin", in(pat(50, 90), "M04AC01", "J01FA09"), []string{"DDI-CYP-07"}, nil},
	{"clopidogrel+omeprazole", in(pat(50, 90), "B01AC04", "A02BC01"), []string{"DDI-CYP-08"}, nil},
	{"clopidogrel+pantoprazole", in(pat(50, 90), "B01AC04", "A02BC02"), nil, []string{"DDI-CYP-08"}},
	{"citalopram+ondansetron", in(pat(50, 90), "N06AB04", "A04AA01"), []string{"DDI-QT-01"}, nil},
	{"citalopram alone", in(pat(50, 90), "N06AB04"), nil, []string{"DDI-QT-01"}},
	{"lithium+hydrochlorothiazide", in(pat(50, 90), "N05AN01", "C03AA03"), []string{"DDI-LI-01"}, nil},
	{"methotrexate+co-trimoxazole", in(pat(50, 90), "L04AX03", "J01EE01"), []string{"DDI-MTX-01"}, nil},
	{"methotrexate+naproxen", in(pat(50, 90), "L04AX03", "M01AE02"), []string{"DDI-MTX-02"}, nil},
	{"digoxin+verapamil", in(pat(50, 90), "C01AA05", "C08DA01"), []string{"DDI-DIG-01"}, nil},
	{"sildenafil+isosorbide mononitrate", in(pat(50, 90), "G04BE03", "C01DA14"), []string{"DDI-PDE5-01"}, nil},
	{"azathioprine+allopurinol", in(pat(50, 90), "L04AX01", "M04AA01"), []string{"DDI-AZA-01"}, nil},
	{"bisoprolol+diltiazem", in(pat(50, 90), "C07AB07", "C08DB01"), []string{"DDI-BRADY-01"}, nil},
	{"ciprofloxacin+prednisolone at 70", in(pat(70, 90), "J01MA02", "H02AB06"), []string{"DDI-TEND-01"}, nil},
	{"ciprofloxacin+prednisolone at 40", in(pat(40, 90), "J01MA02", "H02AB06"), nil, []string{"DDI-TEND-01"}},
	{"donepezil+oxybutynin", in(pat(50, 90), "N06DA02", "G04BD04"), []string{"DDI-ACH-01"}, nil},

	// Renal bands.
	{"metformin eGFR 25", in(pat(50, 25), "A10BA02"), []string{"REN-MET-01"}, []string{"REN-MET-02", "REN-MET-03"}},
	{"metformin eGFR 60", in(pat(50, 60), "A10BA02"), nil, []string{"REN-MET-01", "REN-MET-02", "REN-MET-03"}},
	{"apixaban eGFR 10", in(pat(50, 10), "B01AF02"), []string{"REN-APX-01"}, nil},
	{"rivaroxaban eGFR 10", in(pat(50, 10), "B01AF01"), []string{"REN-RIV-01"}, []string{"REN-RIV-02"}},
	{"dabigatran eGFR 25", in(pat(50, 25), "B01AE07"), []string{"REN-DAB-01"}, nil},
	{"edoxaban eGFR 12", kg(dosed(in(pat(50, 12), "B01AF03"), 0, "30 mg x 1"), 80), []string{"REN-EDX-01"}, nil},
	{"enoxaparin eGFR 20", in(pat(50, 20), "B01AB05"), []string{"REN-LMWH-01"}, nil},
	{"ibuprofen eGFR 20", in(pat(50, 20), "M01AE01"), []string{"REN-NSAID-01"}, []string{"REN-NSAID-02"}},
	{"ibuprofen eGFR 45", in(pat(50, 45), "M01AE01"), []string{"REN-NSAID-02"}, nil},
	{"morphine eGFR 20", in(pat(50, 20), "N02AA01"), []string{"REN-OPI-01"}, nil},
	{"baclofen eGFR 50", in(pat(50, 50), "M03BX01"), []string{"REN-BACL-01"}, nil},
	{"nitrofurantoin eGFR 25", in(pat(50, 25), "J01XE01"), []string{"REN-NFT-01"}, nil},
	{"nitrofurantoin eGFR 40", in(pat(50, 40), "J01XE01"), []string{"REN-NFT-02"}, nil},
	{"trimethoprim eGFR 20", in(pat(50, 20), "J01EA01"), []string{"REN-TMP-01"}, nil},
	{"eplerenone eGFR 20", in(pat(50, 20), "C03DA04"), []string{"REN-MRA-01"}, nil},
	{"digoxin 0.25 mg eGFR 20", dosed(in(pat(50, 20), "C01AA05"), 0, "0,25 mg x 1"), []string{"REN-DIG-01"}, nil},
	{"digoxin 0.125 mg eGFR 20", dosed(in(pat(50, 20), "C01AA05"), 0, "0,125 mg x 1"), nil, []string{"REN-DIG-01"}},
	{"donepezil after syncope", in(pat(80, 70, "R55"), "N06DA02"), []string{"DD-SYN-01"}, nil},
	{"nortriptyline after syncope (secondary TCA)", in(pat(50, 70, "R55"), "N06AA10"), nil, []string{"DD-SYN-01"}},
	{"quetiapine in delirium", in(pat(50, 70, "F05.9"), "N05AH04"), []string{"DD-DEL-01"}, nil},
	{"prednisolone in delirium", in(pat(50, 70, "F05.0"), "H02AB06"), []string{"DD-DEL-01"}, nil},
	{"amlodipine with orthostatic hypotension", in(pat(50, 70, "I95.1"), "C08CA01"), []string{"DD-OH-01"}, nil},
	{"ramipril with hyperkalaemia", in(pat(50, 70, "E87.5"), "C09AA05"), []string{"DD-K-01"}, nil},
	{"phenytoin + co-trimoxazole", in(pat(50, 90), "N03AB02", "J01EE01"), []string{"DDI-PHT-01"}, nil},
	{"glimepiride eGFR 20", in(pat(50, 20), "A10BB12"), []string{"REN-SU-01"}, nil},
	{"lithium eGFR 20", in(pat(50, 20), "N05AN01"), []string{"REN-LI-01"}, nil},
	{"methotrexate eGFR 20", in(pat(50, 20), "L04AX03"), []string{"REN-MTX-01"}, nil},
	{"methotrexate eGFR 45", in(pat(50, 45), "L04AX03"), []string{"REN-MTX-02"}, nil},
	{"duloxetine eGFR 25", in(pat(50, 25), "N06AX21"), []string{"REN-DULOX-01"}, nil},
	{"duloxetine eGFR 30", in(pat(50, 30), "N06AX21"), nil, []string{"REN-DULOX-01"}},
	{"amiloride combination eGFR 25", in(pat(50, 25), "C03EA01"), []string{"REN-KSP-01"}, nil},
	{"aspirin 500 mg x 3 after an ulcer", dosed(in(pat(50, 90, "K25.7"), "N02BA01"), 0, "500 mg x 3"), []string{"DD-PU-02"}, nil},
	{"aspirin 100 mg after an ulcer", dosed(in(pat(50, 90, "K25.7", "I25.2"), "B01AC06"), 0, "100 mg x 1"), nil, []string{"DD-PU-02"}},
	{"dronedarone in permanent AF", in(pat(50, 90, "I48.2"), "C01BD07"), []string{"DD-AF-01"}, nil},
	{"dronedarone in paroxysmal AF", in(pat(50, 90, "I48.0"), "C01BD07"), nil, []string{"DD-AF-01"}},
	{"prednisolone + naproxen", in(pat(50, 90), "H02AB06", "M01AE02"), []string{"DDI-NSAID-CS-01"}, nil},
	{"prednisolone + naproxen + PPI", in(pat(50, 90), "H02AB06", "M01AE02", "A02BC02"), nil, []string{"DDI-NSAID-CS-01"}},
	{"warfarin + ciprofloxacin", in(pat(50, 90), "B01AA03", "J01MA02"), []string{"DDI-BLEED-08"}, nil},
	{"warfarin + azithromycin", in(pat(50, 90), "B01AA03", "J01FA10"), nil, []string{"DDI-BLEED-08"}},
	{"glimepiride + clarithromycin", in(pat(50, 90), "A10BB12", "J01FA09"), []string{"DDI-SU-01"}, nil},
	{"lithium + furosemide", in(pat(50, 90), "N05AN01", "C03CA01"), []string{"DDI-LI-01"}, nil},
	{"doxepin 3 mg at 70", dosed(in(pat(70, 90), "N06AA12"), 0, "3 mg iltaisin"), nil, []string{"PIM-DOX-01", "PIM-TCA-01"}},
	{"doxepin 25 mg at 70", dosed(in(pat(70, 90), "N06AA12"), 0, "25 mg iltaisin"), []string{"PIM-DOX-01"}, []string{"PIM-TCA-01"}},
	{"apixaban 5 mg x 2 in AF at 82, 55 kg", dosed(in(Patient{Age: ptr(82), Sex: "female", EGFR: ptr(60.0), WeightKg: ptr(55.0), Conditions: []string{"I48.9"}, Falls: ptr(false)}, "B01AF02"), 0, "5 mg x 2"), []string{"DOSE-APX-01"}, nil},
	{"apixaban 2.5 mg x 2 in AF at 82, 55 kg", dosed(in(Patient{Age: ptr(82), Sex: "female", EGFR: ptr(60.0), WeightKg: ptr(55.0), Conditions: []string{"I48.9"}, Falls: ptr(false)}, "B01AF02"), 0, "2,5 mg x 2"), nil, []string{"DOSE-APX-01"}},
	{"apixaban 5 mg x 2 in AF at 82, 75 kg, creatinine 90", dosed(in(Patient{Age: ptr(82), Sex: "female", WeightKg: ptr(75.0), Creatinine: &Creatinine{Value: 90, Unit: "umol/L"}, Conditions: []string{"I48.9"}, Falls: ptr(false)}, "B01AF02"), 0, "5 mg x 2"), nil, []string{"DOSE-APX-01"}},
	{"apixaban 5 mg x 2 in AF at 70, 58 kg, creatinine 140", dosed(in(Patient{Age: ptr(70), Sex: "female", WeightKg: ptr(58.0), Creatinine: &Creatinine{Value: 140, Unit: "umol/L"}, Conditions: []string{"I48.9"}, Falls: ptr(false)}, "B01AF02"), 0, "5 mg x 2"), []string{"DOSE-APX-01"}, nil},
	{"edoxaban 60 mg at 55 kg", dosed(in(Patient{Age: ptr(60), Sex: "female", EGFR: ptr(80.0), WeightKg: ptr(55.0), Conditions: []string{"I48.9"}, Falls: ptr(false)}, "B01AF03"), 0, "60 mg x 1"), []string{"DOSE-EDX-01"}, nil},
	{"edoxaban 60 mg at 61 kg", dosed(in(Patient{Age: ptr(60), Sex: "female", EGFR: ptr(80.0), WeightKg: ptr(61.0), Conditions: []string{"I48.9"}, Falls: ptr(false)}, "B01AF03"), 0, "60 mg x 1"), nil, []string{"DOSE-EDX-01"}},
	{"edoxaban 60 mg with dronedarone", dosed(in(Patient{Age: ptr(60), Sex: "female", EGFR: ptr(80.0), WeightKg: ptr(80.0), Conditions: []string{"I48.0"}, Falls: ptr(false)}, "B01AF03", "C01BD07"), 0, "60 mg x 1"), []string{"DOSE-EDX-02"}, nil},
	{"dabigatran 150 mg x 2 with verapamil", dosed(in(pat(60, 90), "B01AE07", "C08DA01"), 0, "150 mg x 2"), []string{"DOSE-DAB-01"}, nil},
	{"dabigatran 110 mg x 2 with verapamil", dosed(in(pat(60, 90), "B01AE07", "C08DA01"), 0, "110 mg x 2"), nil, []string{"DOSE-DAB-01"}},
	{"colchicine eGFR 20", in(pat(50, 20), "M04AC01"), []string{"REN-COLCH-01"}, nil},

	// Drug–disease.
	{"ibuprofen in heart failure", in(pat(50, 90, "I50.9"), "M01AE01"), []string{"DD-HF-01"}, nil},
	{"verapamil in heart failure", in(pat(50, 90, "I50.1"), "C08DA01"), []string{"DD-HF-02"}, nil},
	{"pioglitazone in heart failure", in(pat(50, 90, "I50"), "A10BG03"), []string{"DD-HF-03"}, nil},
	{"dronedarone in heart failure", in(pat(50, 90, "I50.0"), "C01BD07"), []string{"DD-HF-04"}, nil},
	{"oxybutynin in dementia", in(pat(80, 90, "G30.1+F00.1*"), "G04BD04"), []string{"DD-DEM-01"}, nil},
	{"amitriptyline in dementia supersedes PIM", in(pat(80, 90, "F03"), "N06AA09"), []string{"DD-DEM-01"}, []string{"PIM-TCA-01"}},
	{"quetiapine in dementia", in(pat(80, 90, "G30.9"), "N05AH04"), []string{"DD-DEM-02"}, []string{"PIM-AP-01"}},
	{"zopiclone in dementia", in(pat(80, 90, "F03"), "N05CF01"), []string{"DD-DEM-03"}, []string{"PIM-BZD-01"}},
	{"haloperidol in Parkinson's", in(pat(50, 90, "G20"), "N05AD01"), []string{"DD-PD-01"}, nil},
	{"quetiapine in Parkinson's", in(pat(50, 90, "G20"), "N05AH04"), nil, []string{"DD-PD-01"}},
	{"metoclopramide in Parkinson's", in(pat(50, 90, "G20"), "A03FA01"), []string{"DD-PD-02"}, nil},
	{"ibuprofen after ulcer", in(pat(50, 90, "K25.4"), "M01AE01"), []string{"DD-PU-01"}, nil},
	{"ibuprofen after ulcer with PPI", in(pat(50, 90, "K25.4"), "M01AE01", "A02BC02"), nil, []string{"DD-PU-01"}},
	{"propranolol in asthma", in(pat(50, 90, "J45.9"), "C07AA05"), []string{"DD-AST-01"}, nil},
	{"bupropion in epilepsy", in(pat(50, 90, "G40.3"), "N06AX12"), []string{"DD-EPI-01"}, nil},
	{"amitriptyline with BPH", in(pat(50, 90, "N40"), "N06AA09"), []string{"DD-URO-01"}, nil},
	{"oxybutynin in angle-closure glaucoma", in(pat(50, 90, "H40.2"), "G04BD04"), []string{"DD-GLA-01"}, nil},
	{"sertraline after hyponatraemia", in(pat(50, 90, "E87.1"), "N06AB06"), []string{"DD-NA-01"}, nil},
	{"potassium in hyperkalaemia", in(pat(50, 90, "E87.5"), "A12BA01"), []string{"DD-K-01"}, nil},

	// Older adults.
	{"diazepam at 70 for a week", used(in(pat(70, 90), "N05BA01"), 0, 7), []string{"PIM-BZD-01"}, []string{"PIM-BZD-02"}},
	{"diazepam at 70 for 4 weeks", used(in(pat(70, 90), "N05BA01"), 0, 28), []string{"PIM-BZD-02"}, []string{"PIM-BZD-01"}},
	{"zopiclone at 70 for 8 weeks (not a benzodiazepine)", used(in(pat(70, 90), "N05CF01"), 0, 56), []string{"PIM-BZD-01"}, []string{"PIM-BZD-02"}},
	{"regular oxycodone at 70 without a laxative", in(pat(70, 90), "N02AA05"), []string{"PIM-OPI-01"}, nil},
	{"regular oxycodone at 70 with macrogol", in(pat(70, 90), "N02AA05", "A06AD15"), nil, []string{"PIM-OPI-01"}},
	{"as-needed oxycodone at 70", prn(in(pat(70, 90), "N02AA05"), 0), nil, []string{"PIM-OPI-01"}},
	{"oxycodone-naloxone at 70", in(pat(70, 90), "N02AA55"), nil, []string{"PIM-OPI-01"}},
	{"digoxin 0.25 mg at 80", dosed(in(pat(80, 90), "C01AA05"), 0, "0,25 mg x 1"), []string{"PIM-DIG-01"}, nil},
	{"digoxin 0.125 mg at 80", dosed(in(pat(80, 90), "C01AA05"), 0, "0,125 mg x 1"), nil, []string{"PIM-DIG-01"}},
	{"dabigatran 150 mg x 2 at 82", dosed(in(pat(82, 90), "B01AE07"), 0, "150 mg x 2"), []string{"PIM-DAB-01"}, nil},
	{"dabigatran 110 mg x 2 at 82", dosed(in(pat(82, 90), "B01AE07"), 0, "110 mg x 2"), nil, []string{"PIM-DAB-01"}},
	{"dabigatran 150 mg x 2 at 79", dosed(in(pat(79, 90), "B01AE07"), 0, "150 mg x 2"), nil, []string{"PIM-DAB-01"}},
	{"sertraline after a hip fracture", in(pat(80, 90, "S72.0"), "N06AB06"), []string{"FALL-04"}, nil},
	{"mirtazapine after a hip fracture (not TCA/SSRI/SNRI)", in(pat(80, 90, "S72.0"), "N06AX11"), nil, []string{"FALL-04"}},
	{"pregabalin after a wrist fracture", in(pat(75, 90, "S52.5"), "N03AX16"), []string{"FALL-05"}, nil},
	{"levetiracetam after a fracture, with epilepsy", in(pat(75, 90, "S52.5", "G40.9"), "N03AX14"), nil, []string{"FALL-05"}},
	{"diazepam at 50", in(pat(50, 90), "N05BA01"), nil, []string{"PIM-BZD-01"}},
	{"amitriptyline at 70", in(pat(70, 90), "N06AA09"), []string{"PIM-TCA-01"}, nil},
	{"hydroxyzine at 70", in(pat(70, 90), "N05BB01"), []string{"PIM-AH-01"}, nil},
	{"risperidone at 80 without psychosis", in(pat(80, 90, "I10"), "N05AX08"), []string{"PIM-AP-01"}, nil},
	{"risperidone at 80 with schizophrenia", in(pat(80, 90, "F20.0"), "N05AX08"), nil, []string{"PIM-AP-01"}},
	{"glimepiride at 70", in(pat(70, 90), "A10BB12"), []string{"PIM-SU-01"}, nil},
	{"ibuprofen at 70", in(pat(70, 90), "M01AE01"), []string{"PIM-NSAID-01"}, nil},
	{"ibuprofen at 70 with PPI", in(pat(70, 90), "M01AE01", "A02BC02"), nil, []string{"PIM-NSAID-01"}},
	{"orphenadrine at 70", in(pat(70, 90), "M03BC01"), []string{"PIM-MUSC-01"}, nil},
	{"metoclopramide at 70", in(pat(70, 90), "A03FA01"), []string{"PIM-MCP-01"}, nil},
	{"doxazosin at 70", in(pat(70, 90), "C02CA04"), []string{"PIM-ALPHA-01"}, nil},
	{"tamsulosin at 70", in(pat(70, 90), "G04CA02"), nil, []string{"PIM-ALPHA-01"}},
	{"desmopressin at 70", in(pat(70, 90), "H01BA02"), []string{"PIM-DESMO-01"}, nil},
	{"omeprazole at 70 for 12 weeks", used(in(pat(70, 90), "A02BC01"), 0, 84), []string{"PIM-PPI-01"}, nil},
	{"omeprazole at 70 for 8 weeks", used(in(pat(70, 90), "A02BC01"), 0, 56), nil, []string{"PIM-PPI-01"}},
	{"omeprazole at 70 as needed", prn(used(in(pat(70, 90), "A02BC01"), 0, 365), 0), nil, []string{"PIM-PPI-01"}},
	{"omeprazole at 70 with an NSAID", used(in(pat(70, 90), "A02BC01", "M01AE01"), 0, 365), nil, []string{"PIM-PPI-01"}},
	{"omeprazole at 70 with Barrett's oesophagus", used(in(pat(70, 90, "K22.7"), "A02BC01"), 0, 365), nil, []string{"PIM-PPI-01"}},
	{"aspirin at 75 without CVD", in(pat(75, 90, "I10"), "B01AC06"), []string{"PIM-ASA-01"}, nil},
	{"aspirin at 75 with coronary disease", in(pat(75, 90, "I25.1"), "B01AC06"), nil, []string{"PIM-ASA-01"}},
	{"starting warfarin at 75", in(pat(75, 90), "+B01AA03"), []string{"PIM-WARF-01"}, nil},
	{"continuing warfarin at 75", in(pat(75, 90), "B01AA03"), nil, []string{"PIM-WARF-01"}},
	{"rivaroxaban at 75", in(pat(75, 90), "B01AF01"), []string{"PIM-RIVA-01"}, nil},
	{"ACB 3 at 50", in(pat(50, 90), "N06AA09"), []string{"ACB-01"}, []string{"ACB-02"}},
	{"ACB 3 at 70", in(pat(70, 90), "N06AA09"), []string{"ACB-02"}, []string{"ACB-01"}},
	{"ACB 2", in(pat(70, 90), "N03AF01"), nil, []string{"ACB-01", "ACB-02"}},
	{"FRID after a fall", in(Patient{Age: ptr(80), EGFR: ptr(90.0), Conditions: []string{"Z00"}, Falls: ptr(true)}, "N05CF01"), []string{"FALL-01"}, nil},
	{"three FRIDs", in(pat(80, 90), "N05CF01", "N06AB04", "C03CA01"), []string{"FALL-02"}, nil},
	{"three FRIDs after a fall", in(Patient{Age: ptr(80), EGFR: ptr(90.0), Conditions: []string{"Z00"}, Falls: ptr(true)}, "N05CF01", "N06AB04", "C03CA01"), []string{"FALL-01"}, []string{"FALL-02"}},

	// Duplication.
	{"two statins", in(pat(50, 90), "C10AA01", "C10AA05"), []string{"DUP-ATC4-01"}, nil},
	{"dual antiplatelet therapy is not a duplicate", in(pat(50, 90), "B01AC06", "B01AC04"), nil, []string{"DUP-ATC4-01"}},
	{"brand and generic", in(pat(50, 90), "=Burana 400 mg", "=ibuprofeeni"), []string{"DUP-SUB-01"}, nil},
	{"two NSAIDs across groups", in(pat(50, 90), "M01AE01", "M01AB05"), []string{"DUP-NSAID-01"}, nil},
	{"two NSAIDs in one group", in(pat(50, 90), "M01AE01", "M01AE02"), []string{"DUP-NSAID-01"}, []string{"DUP-ATC4-01"}},
	{"two opioids", in(pat(50, 90), "N02AA05", "N02AB03"), []string{"DUP-OPI-01"}, nil},
	{"two benzodiazepine-type", in(pat(50, 90), "N05BA04", "N05CF01"), []string{"DUP-BZD-01"}, nil},
	{"two antipsychotics", in(pat(50, 90), "N05AH04", "N05AX08"), []string{"DUP-AP-01"}, nil},
	{"two oral anticoagulants", in(pat(50, 90), "B01AA03", "B01AF02"), []string{"DUP-OAC-01"}, nil},
	{"gabapentin+pregabalin", in(pat(50, 90), "N03AX12", "N03AX16"), []string{"DUP-GABA-01"}, nil},
}

func TestRules(t *testing.T) {
	kb := testKB(t)
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Assess(kb, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := flagIDs(res)
			for _, id := range tc.want {
				if !slices.Contains(got, id) {
					t.Errorf("%s did not fire; flags: %v; notes: %+v", id, got, res.Notes)
				}
			}
			for _, id := range tc.absent {
				if slices.Contains(got, id) {
					t.Errorf("%s fired; flags: %v", id, got)
				}
			}
			for _, n := range res.Notes {
				t.Errorf("unexpected note %s for rules %v", n.Reason, n.Rules)
			}
		})
	}
}

// TestEveryRuleHasACase keeps the table complete as rules are added.
func TestEveryRuleHasACase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range doseBandCases {
		if tc.fires {
			covered[tc.rule] = true
		}
	}
	for _, tc := range ruleCases {
		for _, id := range tc.want {
			covered[id] = true
		}
	}
	for _, r := range testKB(t).Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s has no positive table case in rules_test.go", r.ID)
		}
	}
}

func flagIDs(res Result) []string {
	var out []string
	for _, f := range res.Flags {
		if !slices.Contains(out, f.RuleID) {
			out = append(out, f.RuleID)
		}
	}
	return out
}
