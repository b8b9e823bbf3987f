package evals

import (
	"slices"
	"testing"
)

func TestPorterStem(t *testing.T) {
	// Examples from Porter (1980) and NLTK's documented extensions,
	// worked through the rules in PorterStem's comment.
	for in, want := range map[string]string{
		"caresses": "caress", "ponies": "poni", "ties": "tie", "caress": "caress", "cats": "cat",
		"feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled", "motoring": "motor",
		"sing": "sing", "conflated": "conflat", "troubled": "troubl", "sized": "size", "hopping": "hop",
		"tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz", "failing": "fail",
		"filing": "file", "happy": "happi", "sky": "sky", "skies": "sky", "dying": "die",
		"spied": "spi", "died": "die", "flies": "fli", "dies": "die", "enjoy": "enjoy", "geology": "geolog",
		"relational": "relat", "conditional": "condit", "rational": "ration", "valenci": "valenc",
		"hesitanci": "hesit", "digitizer": "digit", "conformabli": "conform", "radicalli": "radic",
		"differentli": "differ", "vileli": "vile", "analogousli": "analog", "vietnamization": "vietnam",
		"predication": "predic", "operator": "oper", "feudalism": "feudal", "decisiveness": "decis",
		"hopefulness": "hope", "callousness": "callous", "formaliti": "formal", "sensitiviti": "sensit",
		"sensibiliti": "sensibl", "triplicate": "triplic", "formative": "form", "formalize": "formal",
		"electriciti": "electr", "electrical": "electr", "hopeful": "hope", "goodness": "good",
		"revival": "reviv", "allowance": "allow", "inference": "infer", "airliner": "airlin",
		"gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens", "irritant": "irrit",
		"replacement": "replac", "adjustment": "adjust", "dependent": "depend", "adoption": "adopt",
		"communism": "commun", "activate": "activ", "angulariti": "angular", "homologous": "homolog",
		"effective": "effect", "bowdlerize": "bowdler", "probate": "probat", "rate": "rate",
		"cease": "ceas", "controll": "control", "roll": "roll", "generalizations": "gener",
		"oscillators": "oscil", "Running": "run", "is": "is", "a": "a", "news": "news", "exceed": "exceed",
	} {
		if got := PorterStem(in); got != want {
			t.Errorf("PorterStem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRougeTokensUnicode(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"Verenpainelääkitys: 5 mg, aamulla."}, []string{"verenpainelääkitys", "5", "mg", "aamulla"}},
		{[]string{"Blodtrycksmedicin ökades (Å)"}, []string{"blodtrycksmedicin", "ökades", "å"}},
		{[]string{"Давление 140/90"}, []string{"давление", "140", "90"}},
		{[]string{"ضغط الدم مرتفع"}, []string{"ضغط", "الدم", "مرتفع"}},
		{[]string{"Dhiig-karka waa sarreeyaa"}, []string{"dhiig", "karka", "waa", "sarreeyaa"}},
		{[]string{""}, nil},
	} {
		got := RougeTokensUnicode(tc.in[0])
		if !slices.Equal(got, tc.want) {
			t.Errorf("RougeTokensUnicode(%q) = %q, want %q", tc.in[0], got, tc.want)
		}
	}
	// The English tokenizer drops the Finnish letters; the Unicode one
	// scores a Finnish paraphrase as a human would count the words.
	ref, pred := "Potilaan lääkitys jatkuu", "Lääkitys jatkuu potilaalla"
	en, _ := Rouge("rouge1", ref, pred)
	uni, err := RougeWith("rouge1", ref, pred, RougeOptions{Unicode: true})
	if err != nil {
		t.Fatal(err)
	}
	if uni.Precision != 2.0/3 || uni.Recall != 2.0/3 {
		t.Errorf("Unicode rouge1 = %+v, want P = R = 2/3", uni)
	}
	if en == uni {
		t.Errorf("English tokenizer gave the same score %+v on Finnish text with ä", en)
	}
}
