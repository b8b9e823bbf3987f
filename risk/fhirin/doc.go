// Package fhirin turns FHIR R4 resources into a risk.Input: a Bundle (or
// several bundles and single resources, as a CDS Hooks request carries)
// with Patient, MedicationRequest, MedicationStatement, Medication,
// Observation (eGFR or serum creatinine by LOINC, body weight) and
// Condition (ICD-10). Medicines are read from ATC codings
// (http://www.whocc.no/atc) or, failing that, from their text.
//
// It is pure: no network, no clock (the caller passes the time used to
// compute the age), no logging. Malformed JSON gives an assist.Error of
// kind invalid naming the entry and field, never echoing values; resources
// that cannot be used are listed in Parsed.Skipped so that nothing is
// dropped silently. It imports risk and assist only; it must not import
// HTTP, database or model packages.
package fhirin
