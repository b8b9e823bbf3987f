import { api, localize, signIn, uiLang, setUILang, t, el } from "/ui/common/api.js";

const S = {
  title: { fi: "Luonnoksen tarkistus", sv: "Granskning av utkast", en: "Draft note review" },
  draftid: { fi: "Luonnoksen numero", sv: "Utkastets nummer", en: "Draft number" },
  open: { fi: "Avaa", sv: "Öppna", en: "Open" },
  ailabel: { fi: "Tekoälyn luonnos — tarkista ennen hyväksymistä", sv: "AI-utkast — granska före signering", en: "AI draft — check before signing" },
  help: { fi: "Vie hiiri lauseen päälle tai siirry siihen näppäimistöllä nähdäksesi, mihin puheenvuoroihin se perustuu. Merkityt lauseet eivät perustu keskusteluun sellaisinaan. Muokkaa lausetta kirjoittamalla siihen.",
          sv: "Håll muspekaren över en mening eller flytta fokus till den för att se vilka repliker den bygger på. Markerade meningar stöds inte av samtalet som de står. Redigera en mening genom att skriva i den.",
          en: "Hover over or focus a sentence to see the turns it rests on. Flagged sentences are not supported by the conversation as written. Edit a sentence by typing in it." },
  transcript: { fi: "Keskustelu", sv: "Samtal", en: "Conversation" },
  draft: { fi: "Luonnos", sv: "Utkast", en: "Draft" },
  accept: { fi: "Hyväksy", sv: "Godkänn", en: "Accept" },
  save: { fi: "Tallenna muokkaukset", sv: "Spara ändringarna", en: "Save my edits" },
  reason: { fi: "Hylkäyksen syy", sv: "Skäl till avslag", en: "Reason for rejecting" },
  reject: { fi: "Hylkää", sv: "Avslå", en: "Reject" },
  flag: { fi: "Tarkista", sv: "Kontrollera", en: "Check" },
  cites: { fi: "perustuu", sv: "bygger på", en: "rests on" },
  nocites: { fi: "ei lähdettä", sv: "ingen källa", en: "no source" },
  model: { fi: "malli", sv: "modell", en: "model" },
  template: { fi: "pohja", sv: "mall", en: "template" },
  needreason: { fi: "Kirjoita hylkäyksen syy.", sv: "Skriv skälet till avslaget.", en: "Write the reason for rejecting." },
  noedits: { fi: "Et ole muokannut mitään; valitse Hyväksy.", sv: "Du har inte ändrat något; välj Godkänn.", en: "You have not edited anything; choose Accept." },
  done_accepted: { fi: "Hyväksytty.", sv: "Godkänt.", en: "Accepted." },
  done_edited: { fi: "Tallennettu muokattuna.", sv: "Sparat med ändringar.", en: "Saved with your edits." },
  done_rejected: { fi: "Hylätty.", sv: "Avslaget.", en: "Rejected." },
  reviewed: { fi: "Luonnos on jo tarkistettu:", sv: "Utkastet är redan granskat:", en: "This draft has been reviewed already:" },
  distance: { fi: "muokkausetäisyys (sanaa)", sv: "redigeringsavstånd (ord)", en: "edit distance (words)" },
};

// Flag types of the grounding checker, in words.
const FLAGS = {
  medication: { fi: "lääke, jota keskustelussa ei mainita", sv: "läkemedel som inte nämns", en: "a drug the conversation does not name" },
  dose: { fi: "annos poikkeaa", sv: "dosen avviker", en: "the dose differs" },
  frequency: { fi: "antotiheys poikkeaa", sv: "doseringsintervallet avviker", en: "the frequency differs" },
  number: { fi: "luku, jota ei sanottu", sv: "ett tal som inte sades", en: "a number that was not said" },
  date: { fi: "päivämäärä, jota ei sanottu", sv: "ett datum som inte sades", en: "a date that was not said" },
  laterality: { fi: "puoli poikkeaa", sv: "sidan avviker", en: "the side differs" },
  negation: { fi: "kielto kääntynyt", sv: "negationen har vänts", en: "a denial turned around" },
  allergy: { fi: "allergia, jota ei todettu", sv: "en allergi som inte nämndes", en: "an allergy not stated" },
  finding: { fi: "löydös, jota keskustelussa ei ole", sv: "ett fynd som inte finns i samtalet", en: "a finding the conversation never mentions" },
  citation: { fi: "viittaus tuntemattomaan", sv: "hänvisning till okänd källa", en: "a citation to an unknown source" },
  unknown_citation: { fi: "tuntematon viittaus poistettu", sv: "okänd hänvisning borttagen", en: "an unknown citation was dropped" },
  no_citation: { fi: "ei lähdeviittausta", sv: "ingen källhänvisning", en: "cites no source" },
  not_checked: { fi: "ei tarkistettu", sv: "inte kontrollerad", en: "not checked" },
  unknown_section: { fi: "malli kirjoitti otsikon, jota pohjassa ei ole; jätetty pois", sv: "modellen skrev en rubrik som mallen saknar; utelämnad", en: "the model wrote a heading the template does not have; left out" },
  unparsable: { fi: "mallin vastaus ei ollut pyydettyä muotoa", sv: "modellens svar hade inte det begärda formatet", en: "the model's answer was not in the format asked for" },
  incomplete: { fi: "mallin vastaus katkesi; osa otsikoista voi puuttua", sv: "modellens svar bröts av; rubriker kan saknas", en: "the model's answer broke off; headings may be missing" },
};

const state = { id: 0, draft: null, original: new Map() };
const $ = id => document.getElementById(id);

const langSel = $("ui-lang");
langSel.value = uiLang();
langSel.addEventListener("change", () => { setUILang(langSel.value); localize(document, S); if (state.draft) render(state); });
localize(document, S);

function showError(e) { const p = $("error"); p.textContent = e.message || String(e); p.classList.remove("hidden"); }

function highlight(cites, on) {
  document.querySelectorAll("#transcript li.hl").forEach(li => li.classList.remove("hl"));
  if (!on) return;
  let first = null;
  for (const c of cites) {
    const li = document.querySelector(`#transcript li[data-id="${CSS.escape(c)}"]`);
    if (li) { li.classList.add("hl"); first = first || li; }
  }
  if (first) first.scrollIntoView({ block: "nearest" });
}

function flagText(f) {
  const what = FLAGS[f.type] ? t({ x: FLAGS[f.type] }, "x") : f.type;
  const parts = [what];
  if (f.message) parts.push("“" + f.message + "”");
  if (f.evidence) parts.push(f.evidence);
  return parts.join(" — ");
}

function render(st) {
  const { draft, sources } = st.data;
  $("meta").textContent = ` ${draft.title} · ${t(S, "template")} ${draft.template} ${draft.template_version} · ${t(S, "model")} ${draft.model.name}`;
  $("transcript").replaceChildren(...sources.map(s =>
    el("li", { dataset: { id: s.id } }, el("span", { class: "id" }, s.id), el("span", { class: "who" }, s.speaker + ":"), s.text)));
  const df = $("draft-flags");
  df.replaceChildren(...(draft.flags || []).map(f => el("li", { dataset: { flag: f.type } }, "⚠ " + flagText({ type: f.type, evidence: f.evidence }))));
  df.classList.toggle("hidden", !(draft.flags || []).length);
  const groups = [...(draft.facts || []), ...draft.sections];
  $("draft").replaceChildren(...groups.filter(sec => sec.sentences.length).map(sec => el("div", { class: "section" },
    el("h3", {}, sec.title),
    ...sec.sentences.flatMap(s => {
      const flagged = !s.supported;
      const span = el("span", { class: "sentence" + (flagged ? " flagged" : ""), tabindex: "0", contenteditable: st.data.review ? "false" : "true",
        role: "textbox", "aria-label": s.id, dataset: { id: s.id, cites: s.cites.join(" ") } }, st.original.has(s.id) ? currentText(s.id) : s.text);
      span.addEventListener("mouseenter", () => highlight(s.cites, true));
      span.addEventListener("focus", () => highlight(s.cites, true));
      span.addEventListener("mouseleave", () => highlight([], false));
      span.addEventListener("input", () => span.classList.toggle("edited", span.textContent.trim() !== s.text));
      const out = [span];
      out.push(el("span", { class: "cites" }, s.cites.length ? t(S, "cites") + " " + s.cites.join(", ") : t(S, "nocites")));
      for (const f of s.flags || []) out.push(el("span", { class: "reason", dataset: { flag: f.type } }, "⚠ " + t(S, "flag") + ": " + flagText(f)));
      return out;
    }))));
  for (const s of draft.sections.concat(draft.facts || []).flatMap(x => x.sentences)) if (!st.original.has(s.id)) st.original.set(s.id, s.text);
  const reviewed = st.data.review;
  $("actions").classList.toggle("hidden", !!reviewed);
  if (reviewed) $("status").textContent = `${t(S, "reviewed")} ${reviewed.outcome} (${t(S, "distance")}: ${reviewed.edit_distance})`;
}

function currentText(id) {
  const span = document.querySelector(`.sentence[data-id="${CSS.escape(id)}"]`);
  return span ? span.textContent : state.original.get(id);
}

function edits() {
  const out = [];
  document.querySelectorAll(".sentence").forEach(span => {
    const id = span.dataset.id, text = span.textContent.trim();
    if (text !== (state.original.get(id) || "").trim()) out.push({ id, text });
  });
  return out;
}

async function submit(body) {
  try {
    const rv = await api(`/v1/summaries/${state.id}/review`, { method: "POST", body });
    $("status").textContent = t(S, "done_" + rv.outcome) + (rv.outcome !== "rejected" ? ` ${t(S, "distance")}: ${rv.edit_distance}` : "");
    $("status").dataset.outcome = rv.outcome;
    await load(state.id);
  } catch (e) { showError(e); }
}

async function load(id) {
  state.id = id;
  state.data = await api(`/v1/summaries/${id}`);
  state.draft = state.data.draft;
  $("open-form").classList.add("hidden");
  $("review").classList.remove("hidden");
  render(state);
}

$("accept").addEventListener("click", () => {
  if (edits().length) { submit({ outcome: "edited", sentences: edits() }); return; }
  submit({ outcome: "accepted" });
});
$("save").addEventListener("click", () => {
  const e = edits();
  if (!e.length) { $("status").textContent = t(S, "noedits"); return; }
  submit({ outcome: "edited", sentences: e });
});
$("reject").addEventListener("click", () => {
  const reason = $("reason").value.trim();
  if (!reason) { $("status").textContent = t(S, "needreason"); $("reason").focus(); return; }
  submit({ outcome: "rejected", reason });
});
$("open-form").addEventListener("submit", ev => { ev.preventDefault(); load(Number($("draft-id").value)).catch(showError); });

signIn(async () => {
  const id = Number(new URLSearchParams(location.search).get("id"));
  if (id > 0) await load(id).catch(showError);
  else $("open-form").classList.remove("hidden");
}, showError);
