// Package clinic is the digital clinic assistant: for a patient's chat
// conversation it suggests an urgency with its reasons and the message
// spans they rest on, lists red flags (found by the deterministic rules of
// clinic/redflags), drafts a reply in the patient's language that cites
// the county's instruction passages (retrieval), writes a short structured
// note, and checks the medicines named in the thread with the risk engine
// (shown to the nurse, never written into the reply).
//
// Safety rules are code, not prompt: a red flag sets the minimum urgency,
// which the model may raise and never lower; with a red flag the draft is
// the county's configured emergency reply; a draft that cites no retrieved
// passage, or states a dose the cited passages do not contain, is withheld
// with the reason. Every model call goes through the audited call
// (assist/record) and the suggestion itself is an audit record, so the
// nurse's later decision can relate to it.
//
// It composes assist/record, retrieval and risk; it must not import
// httpapi or any adapter.
package clinic
