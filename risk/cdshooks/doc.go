// Package cdshooks serves the medication risk engine to EHRs as a CDS
// Hooks 2.0 service: the discovery document, parsing of order-select and
// order-sign requests (draftOrders plus prefetch, through risk/fhirin),
// and rendering of flags as cards (indicator from severity, cited source,
// deterministic uuids, "remove draft order" suggestions).
//
// Everything here is a pure function producing response structs; the HTTP
// layer (cmd/assistd/internal/httpapi) decodes, authorises, audits and encodes. It never
// calls the EHR's FHIR server and never uses fhirAuthorization. It imports
// risk, risk/fhirin, assist and google/uuid; it must not import HTTP,
// database or model packages.
package cdshooks
