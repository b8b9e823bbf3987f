package audit

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The fast decoder must agree with encoding/json on every input.
func FuzzDecodeRecordJSON(f *testing.F) {
	for _, r := range chain(4) {
		b, _ := json.Marshal(&r)
		f.Add(b)
	}
	f.Add([]byte(`{"seq":1,"attrs":{"a":"x"},"attrs":{"b":"y"}}`))
	f.Add([]byte(`{"SEQ":1,"kind":"ai.output\u0041","sources":null}`))
	f.Add([]byte(`{"seq":01}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow Record
		errFast := decodeRecordJSON(b, &fast, interner{})
		errSlow := json.Unmarshal(b, &slow)
		if (errFast == nil) != (errSlow == nil) {
			t.Fatalf("errors differ: fast %v, json %v", errFast, errSlow)
		}
		if errSlow == nil && !reflect.DeepEqual(normal(fast), normal(slow)) {
			t.Fatalf("values differ:\nfast %+v\njson %+v", fast, slow)
		}
	})
}

// normal makes empty and nil equivalent, as the canonical encoding does.
func normal(r Record) Record {
	if len(r.Sources) == 0 {
		r.Sources = nil
	}
	if len(r.Attrs) == 0 {
		r.Attrs = nil
	}
	for _, h := range []*Hash{&r.Patient, &r.InputHash, &r.OutputHash, &r.PrevHash, &r.LeafHash} {
		if len(*h) == 0 {
			*h = nil
		}
	}
	return r
}

func TestDecodeStringsAndMaps(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`[]`, []string{}},
		{`["a", "b"]`, []string{"a", "b"}},
		{`["a\"b", "\u00e4"]`, []string{`a"b`, "ä"}},
	}
	for _, tt := range tests {
		got, err := decodeStrings([]byte(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decodeStrings(%s) = %q, %v", tt.in, got, err)
		}
	}
	m, err := decodeStringMap([]byte(`{"k": "v", "x\n": "y"}`))
	if err != nil || !reflect.DeepEqual(m, map[string]string{"k": "v", "x\n": "y"}) {
		t.Errorf("decodeStringMap = %v, %v", m, err)
	}
}
