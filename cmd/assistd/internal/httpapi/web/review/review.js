// The risk group's review page: evaluation runs and their reports, a
// comparison of two runs, and the model releases they approve or withdraw.
import { api, token, localize, signIn, uiLang, setUILang, t, el, ApiError } from "/ui/common/api.js";

const S = {
  title: { fi: "Mallien arviointi ja hyväksyntä", sv: "Granskning och godkännande av modeller", en: "Model evaluation and approval" },
  runs: { fi: "Arviointiajot", sv: "Utvärderingskörningar", en: "Evaluation runs" },
  runsHelp: { fi: "Avaa ajon raportti luettavaksi; valitse vertailukohta ja ehdokas vertailua varten.",
    sv: "Öppna en körnings rapport för att läsa den; välj baslinje och kandidat för att jämföra.",
    en: "Open a run's report to read it; choose a baseline and a candidate to compare them." },
  run: { fi: "Ajo", sv: "Körning", en: "Run" },
  suite: { fi: "Testisarja", sv: "Testsvit", en: "Suite" },
  model: { fi: "Malli", sv: "Modell", en: "Model" },
  digest: { fi: "Tiiviste", sv: "Kontrollsumma", en: "Digest" },
  result: { fi: "Tulos", sv: "Resultat", en: "Result" },
  created: { fi: "Aloitettu", sv: "Startad", en: "Created" },
  baseline: { fi: "Vertailukohta", sv: "Baslinje", en: "Baseline" },
  candidate: { fi: "Ehdokas", sv: "Kandidat", en: "Candidate" },
  open: { fi: "Avaa raportti", sv: "Öppna rapport", en: "Open report" },
  compare: { fi: "Vertaa", sv: "Jämför", en: "Compare" },
  comparison: { fi: "Vertailu", sv: "Jämförelse", en: "Comparison" },
  metric: { fi: "Mittari", sv: "Mått", en: "Metric" },
  delta: { fi: "Ero (95 %:n väli)", sv: "Skillnad (95 % intervall)", en: "Difference (95% interval)" },
  pickTwo: { fi: "Valitse vertailukohta ja ehdokas.", sv: "Välj baslinje och kandidat.", en: "Choose a baseline and a candidate." },
  noRegression: { fi: "Ei heikkenemistä: kaikki rajat täyttyvät.", sv: "Ingen försämring: alla gränser uppfylls.", en: "No regression: every gate passes." },
  regression: { fi: "Heikkeneminen: raja ylittyy.", sv: "Försämring: en gräns överskrids.", en: "Regression: a gate fails." },
  report: { fi: "Raportti", sv: "Rapport", en: "Report" },
  reportHash: { fi: "Raportin SHA-256 (hyväksyntä allekirjoittaa tämän):", sv: "Rapportens SHA-256 (det som ett godkännande signerar):", en: "SHA-256 of this report (what an approval signs):" },
  approveH: { fi: "Hyväksy tämä malliversio", sv: "Godkänn denna modellversion", en: "Approve this release" },
  forTask: { fi: "Tehtävään", sv: "För uppgiften", en: "For task" },
  reason: { fi: "Perustelu", sv: "Motivering", en: "Reason" },
  approve: { fi: "Hyväksy", sv: "Godkänn", en: "Approve" },
  approved: { fi: "Hyväksytty.", sv: "Godkänd.", en: "Approved." },
  noTask: { fi: "Tämän testisarjan ajot eivät hyväksy mallia mihinkään tehtävään.", sv: "Denna testsvits körningar godkänner ingen modell för någon uppgift.", en: "Runs of this suite approve a model for no task." },
  releases: { fi: "Malliversiot", sv: "Modellversioner", en: "Model releases" },
  task: { fi: "Tehtävä", sv: "Uppgift", en: "Task" },
  status: { fi: "Tila", sv: "Status", en: "Status" },
  decidedBy: { fi: "Päättäjä", sv: "Beslutad av", en: "Decided by" },
  withdraw: { fi: "Peru", sv: "Återkalla", en: "Withdraw" },
  withdrawReason: { fi: "Perustelu perumiselle", sv: "Motivering för återkallelse", en: "Reason for withdrawal" },
  mismatchH: { fi: "Palvelimet, joilla hyväksytyn nimen takana on eri malliversio (ei käytetä tehtävään):",
    sv: "Värdar med en annan version under ett godkänt namn (används inte för uppgiften):",
    en: "Hosts serving another release under an approved name (not used for the task):" },
  candidateS: { fi: "ehdokas", sv: "kandidat", en: "candidate" },
  approvedS: { fi: "hyväksytty", sv: "godkänd", en: "approved" },
  withdrawnS: { fi: "peruttu", sv: "återkallad", en: "withdrawn" },
  pass: { fi: "läpäisi", sv: "godkänd", en: "pass" },
  startH: { fi: "Käynnistä arviointi", sv: "Starta en utvärdering", en: "Start an evaluation" },
  start: { fi: "Käynnistä", sv: "Starta", en: "Start" },
  started: { fi: "Käynnistetty", sv: "Startad", en: "Started" },
  refresh: { fi: "Päivitä", sv: "Uppdatera", en: "Refresh" },
  startHelp: { fi: "Ajetaan yhdyskäytävässä eräajoprioriteetilla; ihmisten pyynnöt menevät edelle.",
    sv: "Körs i gatewayen med batchprioritet; människors förfrågningar går först.",
    en: "Runs in the gateway at batch priority; people's requests go first." },
  fail: { fi: "hylätty", sv: "underkänd", en: "fail" },
};

const $ = id => document.getElementById(id);
const short = d => (d || "").replace(/^sha256:/, "").slice(0, 12);
const num = v => (typeof v === "number" ? (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(2)) : "");

let runs = [];
let opened = null; // { run, hash }

function showError(e) {
  const p = $("error");
  p.textContent = e instanceof ApiError ? `${e.kind}: ${e.message}` : String(e.message || e);
  p.classList.remove("hidden");
}
function clearError() { $("error").classList.add("hidden"); }

async function loadRuns() {
  const data = await api("/v1/evals/runs?limit=100");
  runs = data.runs || [];
  const body = $("runs").querySelector("tbody");
  body.replaceChildren(...runs.map(r => {
    const prim = r.definition && r.definition.metrics ? r.definition.metrics[0] : "";
    const s = r.summary;
    const result = s ? el("span", { class: s.pass ? "pass" : "fail" },
      `${t(S, s.pass ? "pass" : "fail")} — ${prim} ${num(s.metrics[prim].mean)}`) : r.status;
    return el("tr", { id: "run-" + r.id },
      el("td", {}, el("code", {}, r.id)), el("td", {}, r.suite), el("td", {}, r.model.name),
      el("td", {}, el("code", { title: r.model.digest }, short(r.model.digest))), el("td", {}, result),
      el("td", {}, new Date(r.created).toLocaleString(uiLang())),
      el("td", {}, el("input", { type: "radio", name: "baseline", value: r.id, "aria-label": `${t(S, "baseline")} ${r.id}` })),
      el("td", {}, el("input", { type: "radio", name: "candidate", value: r.id, "aria-label": `${t(S, "candidate")} ${r.id}` })),
      el("td", {}, s ? el("button", { type: "button", class: "open-report", dataset: { run: r.id }, onclick: () => openReport(r) }, t(S, "open")) : ""));
  }));
}

// openReport fetches the run's report, hashes the exact bytes received and
// shows it in place; the hash is what an approval sends.
async function openReport(run) {
  clearError();
  try {
    const res = await fetch(`/v1/evals/runs/${encodeURIComponent(run.id)}/report`, { headers: { Authorization: "Bearer " + token() } });
    if (!res.ok) {
      const e = await res.json().catch(() => ({}));
      throw new ApiError(res.status, (e.error && e.error.kind) || "error", (e.error && e.error.message) || res.statusText);
    }
    const bytes = await res.arrayBuffer();
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const hash = [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("");
    const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "text/html");
    doc.querySelectorAll("script, style, link").forEach(n => n.remove());
    $("report-view").replaceChildren(...[...doc.body.childNodes].map(n => document.importNode(n, true)));
    opened = { run, hash };
    $("report-run").textContent = run.id;
    $("report-hash").textContent = hash;
    const task = run.qualifies || "";
    $("approve-task").textContent = task || t(S, "noTask");
    $("approve-model").textContent = `${run.model.name} (${short(run.model.digest)})`;
    $("approve").disabled = !task || !(run.summary && run.summary.pass);
    $("approve-result").textContent = "";
    $("report-section").classList.remove("hidden");
    $("report-h").scrollIntoView();
  } catch (e) { showError(e); }
}

async function compare() {
  clearError();
  const b = document.querySelector("input[name=baseline]:checked");
  const c = document.querySelector("input[name=candidate]:checked");
  if (!b || !c) { showError(new Error(t(S, "pickTwo"))); return; }
  try {
    const cmp = await api(`/v1/evals/compare?baseline=${encodeURIComponent(b.value)}&candidate=${encodeURIComponent(c.value)}`);
    $("cmp-verdict").replaceChildren(el("span", { class: cmp.pass ? "pass" : "fail" }, t(S, cmp.pass ? "noRegression" : "regression")),
      ` (${cmp.pairs})`);
    $("cmp-table").querySelector("tbody").replaceChildren(...cmp.metrics.map(m => el("tr", {},
      el("th", { scope: "row" }, m.metric), el("td", { class: "num" }, num(m.baseline)), el("td", { class: "num" }, num(m.candidate)),
      el("td", { class: "num" }, `${num(m.paired.delta.mean)} [${num(m.paired.delta.low)}, ${num(m.paired.delta.high)}]`),
      el("td", { class: "num" }, num(m.paired.p)))));
    $("cmp-gates").replaceChildren(...(cmp.gates || []).map(g => el("li", { class: g.pass ? "pass" : "fail" },
      `${g.metric}: ${num(g.drop)} / ${num(g.max_drop)}, p = ${num(g.p)} — ${t(S, g.pass ? "pass" : "fail")}`)));
    $("comparison").classList.remove("hidden");
  } catch (e) { showError(e); }
}

async function approve(ev) {
  ev.preventDefault();
  clearError();
  if (!opened) return;
  try {
    const rel = await api("/v1/releases/approve", { method: "POST", body: {
      task: opened.run.qualifies, run_id: opened.run.id, report_sha256: opened.hash, reason: $("approve-reason").value } });
    $("approve-result").textContent = `${t(S, "approved")} #${rel.id}`;
    await loadReleases();
  } catch (e) { showError(e); }
}

async function withdraw(rel, input) {
  clearError();
  try {
    await api(`/v1/releases/${rel.id}/withdraw`, { method: "POST", body: { reason: input.value } });
    await loadReleases();
  } catch (e) { showError(e); }
}

async function loadReleases() {
  const data = await api("/v1/releases");
  $("releases").querySelector("tbody").replaceChildren(...(data.releases || []).map(r => {
    let action = "";
    if (r.status !== "withdrawn") {
      const input = el("input", { type: "text", "aria-label": `${t(S, "withdrawReason")} #${r.id}`, placeholder: t(S, "withdrawReason") });
      action = el("span", {}, input, " ", el("button", { type: "button", onclick: () => withdraw(r, input) }, t(S, "withdraw")));
    }
    return el("tr", { id: "release-" + r.id, dataset: { status: r.status } },
      el("td", {}, String(r.id)), el("td", {}, r.task), el("td", {}, r.model), el("td", {}, el("code", { title: r.digest }, short(r.digest))),
      el("td", { class: "status" }, t(S, r.status + "S")), el("td", {}, r.run_id || ""), el("td", {}, r.decided_by || ""),
      el("td", {}, r.reason || ""), el("td", {}, action));
  }));
  const mm = data.mismatches || [];
  $("mismatches").querySelector("ul").replaceChildren(...mm.map(m =>
    el("li", {}, `${m.task}: ${m.host} — ${m.model} ${short(m.digest)} ≠ ${short(m.release)}`)));
  $("mismatches").classList.toggle("hidden", mm.length === 0);
}

async function loadSuites() {
  const data = await api("/v1/evals/suites");
  $("start-suite").replaceChildren(...(data.suites || []).map(s =>
    el("option", { value: s.name, dataset: { needsModel: String(s.needs_model) } }, `${s.name} (${s.task})`)));
}

async function startRun(ev) {
  ev.preventDefault();
  clearError();
  try {
    const res = await api("/v1/evals/runs", { method: "POST", body: { suite: $("start-suite").value, model: $("start-model").value } });
    $("start-result").textContent = `${t(S, "started")}: ${res.run.id}`;
    await loadRuns();
  } catch (e) { showError(e); }
}

const langSel = $("ui-lang");
langSel.value = uiLang();
langSel.addEventListener("change", async () => {
  setUILang(langSel.value);
  localize(document, S);
  if (!$("app").classList.contains("hidden")) { await loadRuns(); await loadReleases(); }
});
localize(document, S);
$("compare").addEventListener("click", compare);
$("approve-form").addEventListener("submit", approve);
$("start-form").addEventListener("submit", startRun);
$("refresh").addEventListener("click", () => loadRuns().catch(showError));

signIn(async () => {
  clearError();
  $("app").classList.remove("hidden");
  await loadSuites();
  await loadRuns();
  await loadReleases();
}, showError);
