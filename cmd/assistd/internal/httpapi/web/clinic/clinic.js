// The digital clinic assist panel: a nurse enters (or the chat platform
// pre-fills) a conversation, asks for a suggestion, sees the urgency with
// its reasons highlighted in the messages, the red flags, the medication
// risk and the cited draft, and records a decision: accept, edit, change
// the urgency or discard. Nothing is sent to the patient from here.
import { api, el, localize, signIn, t, uiLang, setUILang } from "/ui/common/api.js";

const S = {
  title: { fi: "Digiklinikan avustaja", sv: "Digitala klinikens assistent", en: "Digital clinic assistant" },
  thread: { fi: "Keskustelu", sv: "Konversation", en: "Conversation" },
  collection: { fi: "Ohjekokoelma", sv: "Instruktionssamling", en: "Instruction collection" },
  addPatient: { fi: "Lisää potilaan viesti", sv: "Lägg till patientens meddelande", en: "Add patient message" },
  addNurse: { fi: "Lisää hoitajan viesti", sv: "Lägg till sjuksköterskans meddelande", en: "Add nurse message" },
  suggest: { fi: "Ehdota", sv: "Föreslå", en: "Suggest" },
  working: { fi: "Työstetään…", sv: "Arbetar…", en: "Working…" },
  suggestion: { fi: "Ehdotus", sv: "Förslag", en: "Suggestion" },
  aiLabel: { fi: "Tekoälyn ehdotus – hoitaja päättää", sv: "AI-förslag – sjuksköterskan beslutar", en: "AI suggestion – a nurse decides" },
  threadMarked: { fi: "Keskustelu (perusteet korostettu)", sv: "Konversation (skäl markerade)", en: "Conversation (reasons highlighted)" },
  urgency: { fi: "Kiireellisyys", sv: "Brådskandegrad", en: "Urgency" },
  changeUrgency: { fi: "Kirjattava kiireellisyys", sv: "Brådskandegrad att registrera", en: "Urgency to record" },
  redFlags: { fi: "Hälytysmerkit", sv: "Varningsflaggor", en: "Red flags" },
  denied: { fi: "Mainittu mutta kielletty", sv: "Nämnt men förnekat", en: "Mentioned but denied" },
  meds: { fi: "Lääkeriskit (hoitajalle, ei vastaukseen)", sv: "Läkemedelsrisker (för sjuksköterskan, inte i svaret)", en: "Medication risk (for the nurse, not in the reply)" },
  draft: { fi: "Vastausluonnos", sv: "Svarsutkast", en: "Draft reply" },
  sources: { fi: "Lähteet", sv: "Källor", en: "Sources" },
  accept: { fi: "Hyväksy", sv: "Godkänn", en: "Accept" },
  saveEdit: { fi: "Lähetä muokattuna", sv: "Skicka redigerat", en: "Send edited" },
  discard: { fi: "Hylkää luonnos", sv: "Kasta utkastet", en: "Discard draft" },
  patient: { fi: "Potilas", sv: "Patient", en: "Patient" },
  nurse: { fi: "Hoitaja", sv: "Sjuksköterska", en: "Nurse" },
  remove: { fi: "Poista", sv: "Ta bort", en: "Remove" },
  messageText: { fi: "Viestin teksti", sv: "Meddelandets text", en: "Message text" },
  basis_red_flag: { fi: "hälytysmerkin perusteella (vähimmäistaso)", sv: "utifrån varningsflagga (lägsta nivå)", en: "set by a red flag (minimum)" },
  basis_model: { fi: "kielimallin ehdotus", sv: "språkmodellens förslag", en: "suggested by the language model" },
  "basis_red_flag+model": { fi: "hälytysmerkki, mallin nostama", sv: "varningsflagga, höjd av modellen", en: "red flag, raised by the model" },
  basis_default: { fi: "oletus: ei hälytysmerkkiä eikä mallin arviota", sv: "standard: ingen flagga och ingen modellbedömning", en: "default: no red flag and no model assessment" },
  status_ready: { fi: "Luonnos perustuu lähteisiin.", sv: "Utkastet bygger på källorna.", en: "The draft is grounded in the sources." },
  status_flag_reply: { fi: "Hälytysmerkki: alueen vakiovastaus.", sv: "Varningsflagga: regionens standardsvar.", en: "Red flag: the county's configured reply." },
  status_withheld: { fi: "Luonnos pidätetty.", sv: "Utkastet hålls inne.", en: "Draft withheld." },
  recorded: { fi: "Päätös kirjattu (lokitietue", sv: "Beslutet registrerat (loggpost", en: "Decision recorded (audit record" },
};

const $ = id => document.getElementById(id);
let current = null; // the last suggestion
let suggestedDraft = "";

const langSel = $("ui-lang");
langSel.value = uiLang();
langSel.addEventListener("change", () => { setUILang(langSel.value); localize(document, S); if (current) render(current); });
localize(document, S);

function showError(e) { const p = $("error"); p.textContent = e.message || String(e); p.classList.remove("hidden"); }
function clearError() { $("error").classList.add("hidden"); }

function addMessage(author, text = "") {
  const id = "msg-" + ($("messages").children.length + 1);
  const li = el("li", { class: "msg", dataset: { author } },
    el("label", { for: id, class: "msg-author" }, t(S, author === "patient" ? "patient" : "nurse")),
    el("button", { type: "button", class: "remove", "aria-label": t(S, "remove"), onclick: () => li.remove() }, "×"),
    el("textarea", { id, rows: 2, "aria-label": t(S, "messageText") }, text));
  $("messages").append(li);
  li.querySelector("textarea").focus();
}

function thread() {
  return [...$("messages").children].map((li, i) => ({
    id: "m" + (i + 1), author: li.dataset.author, text: li.querySelector("textarea").value,
  })).filter(m => m.text.trim() !== "");
}

// markText renders text with the spans [start, end) (code points) marked.
function markText(text, spans) {
  const cps = [...text];
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out = [];
  let pos = 0;
  for (const s of sorted) {
    if (s.start < pos) continue;
    out.push(cps.slice(pos, s.start).join(""));
    out.push(el("mark", { class: "reason" + (s.flag ? " flag" : ""), title: s.why }, cps.slice(s.start, s.end).join("")));
    pos = s.end;
  }
  out.push(cps.slice(pos).join(""));
  return out;
}

function render(sg) {
  const L = uiLang();
  const conv = current.conversation;
  const spans = conv.map(() => []);
  for (const r of sg.urgency.reasons) for (const s of r.spans) spans[s.message].push({ ...s, flag: r.from === "red_flag", why: r.text });
  $("marked").replaceChildren(...conv.map((m, i) => el("li", { class: "msg" },
    el("span", { class: "msg-author" }, t(S, m.author === "patient" ? "patient" : "nurse") + ":"),
    ...markText(m.text, spans[i]))));
  const lvl = $("urgency-level");
  lvl.textContent = sg.urgency.label[L] || sg.urgency.level;
  lvl.className = "badge " + sg.urgency.canonical;
  lvl.dataset.level = sg.urgency.level;
  $("urgency-basis").textContent = "(" + t(S, "basis_" + sg.urgency.basis) + ")";
  $("urgency-select").replaceChildren(...sg.scale.map(l => el("option", { value: l.id, selected: l.id === sg.urgency.level }, l.label[L] || l.id)));
  $("reasons").replaceChildren(...sg.urgency.reasons.map(r => el("li", {}, r.text)));
  $("flags").replaceChildren(...sg.red_flags.map(f => el("li", { class: "flag" }, (f.title[L] || f.title.en) + " — ",
    el("span", { class: "muted" }, f.sources.map(s => s.publisher + ": " + s.title).join("; ")))));
  $("flags-box").classList.toggle("hidden", sg.red_flags.length === 0);
  $("denied").replaceChildren(...sg.denied.map(d => el("li", {}, d.span.text + " (" + d.cue + ")")));
  $("denied-box").classList.toggle("hidden", sg.denied.length === 0);
  const mr = sg.medication_risk;
  $("meds").replaceChildren(...(mr ? mr.flags.map(f => el("li", {}, (f.title[L] || f.title.en) + " — " + (f.action[L] || f.action.en))) : []));
  $("meds-box").classList.toggle("hidden", !mr || mr.flags.length === 0);
  const d = sg.draft;
  $("draft-status").textContent = t(S, "status_" + d.status);
  $("withheld").textContent = d.withheld ? d.withheld.message : "";
  $("withheld").classList.toggle("hidden", !d.withheld);
  $("draft-text").value = d.text || "";
  $("draft-text").disabled = d.status === "withheld";
  suggestedDraft = d.text || "";
  $("accept").disabled = $("save-edit").disabled = d.status === "withheld";
  $("sources").replaceChildren(...d.citations.map(c => el("li", { value: c.n },
    c.title + (c.heading_path && c.heading_path.length ? " — " + c.heading_path.join(" / ") : ""),
    el("span", { class: "src-text" }, c.text))));
  $("sources-h").classList.toggle("hidden", d.citations.length === 0);
  $("decision-status").classList.add("hidden");
  $("result").classList.remove("hidden");
}

async function suggest(ev) {
  ev.preventDefault();
  clearError();
  const conversation = thread();
  $("busy").classList.remove("hidden");
  try {
    const sg = await api("/v1/clinic/assist", { method: "POST", body: { collection: $("collection").value.trim(), conversation } });
    current = { ...sg, conversation };
    render(current);
  } catch (e) {
    showError(e);
  } finally {
    $("busy").classList.add("hidden");
  }
}

async function decide(draft) {
  clearError();
  if (!current) return;
  const body = { suggestion: current.id, urgency: $("urgency-select").value, draft };
  if (draft !== "discarded") body.original_text = suggestedDraft;
  if (draft === "edited") body.final_text = $("draft-text").value;
  try {
    const r = await api("/v1/clinic/decisions", { method: "POST", body });
    const p = $("decision-status");
    p.textContent = t(S, "recorded") + " " + r.id + "): " + draft + (r.urgency_changed ? ", " + r.suggested_urgency + " → " + r.urgency : "") + (r.diff ? " · " + r.diff : "");
    p.dataset.id = r.id;
    p.classList.remove("hidden");
  } catch (e) {
    showError(e);
  }
}

$("add-patient").addEventListener("click", () => addMessage("patient"));
$("add-nurse").addEventListener("click", () => addMessage("professional"));
$("thread-form").addEventListener("submit", suggest);
$("accept").addEventListener("click", () => decide("accepted"));
$("save-edit").addEventListener("click", () => decide($("draft-text").value === suggestedDraft ? "accepted" : "edited"));
$("discard").addEventListener("click", () => decide("discarded"));
$("draft-text").addEventListener("input", () => { /* an edit is sent with "Send edited" */ });

signIn(() => {
  $("panel").classList.remove("hidden");
  if ($("messages").children.length === 0) addMessage("patient");
}, showError);
