// Interpretation page: the microphone (AudioWorklet, 16 kHz PCM16) streams
// to GET /v1/interpret/sessions (WebSocket, token as subprotocol); captions,
// translations and synthesized speech come back as JSON events.
import { localize, signIn, uiLang, setUILang, t, el, token, wsURL } from "/ui/common/api.js";

const S = {
  title: { fi: "Tulkkaus", sv: "Tolkning", en: "Interpretation" },
  home: { fi: "Etusivu", sv: "Startsida", en: "Home" },
  uilang: { fi: "Kieli", sv: "Språk", en: "Language" },
  parties: { fi: "Kielet", sv: "Språk", en: "Languages" },
  clinician_lang: { fi: "Ammattilainen puhuu", sv: "Vårdpersonalen talar", en: "Clinician speaks" },
  patient_lang: { fi: "Potilas puhuu", sv: "Patienten talar", en: "Patient speaks" },
  options: { fi: "Asetukset", sv: "Inställningar", en: "Options" },
  synthesis: { fi: "Lue käännökset ääneen", sv: "Läs upp översättningarna", en: "Speak translations aloud" },
  glossary: { fi: "Sanastokokoelma", sv: "Ordlistesamling", en: "Glossary collection" },
  optional: { fi: "valinnainen", sv: "valfri", en: "optional" },
  mic: { fi: "Mikrofoni", sv: "Mikrofon", en: "Microphone" },
  mic_party: { fi: "Kuka puhuu", sv: "Vem talar", en: "Who is speaking" },
  clinician: { fi: "Ammattilainen", sv: "Vårdpersonal", en: "Clinician" },
  patient: { fi: "Potilas", sv: "Patient", en: "Patient" },
  start: { fi: "Aloita", sv: "Starta", en: "Start" },
  stop: { fi: "Lopeta", sv: "Stoppa", en: "Stop" },
  ai: { fi: "Konekäännös", sv: "Maskinöversättning", en: "Machine translation" },
  ai_note: { fi: "Puheentunnistus ja käännös ovat automaattisia ja voivat olla väärin. Tulkki voi korjata ne.",
             sv: "Taligenkänning och översättning är automatiska och kan vara fel. Tolken kan rätta dem.",
             en: "Recognition and translation are automatic and can be wrong. The interpreter can correct them." },
  correct_title: { fi: "Tulkin korjaus", sv: "Tolkens rättelse", en: "Interpreter's correction" },
  segment: { fi: "Jakso", sv: "Avsnitt", en: "Segment" },
  field: { fi: "Korjaa", sv: "Rätta", en: "Correct" },
  field_translation: { fi: "käännös", sv: "översättningen", en: "the translation" },
  field_text: { fi: "mitä sanottiin", sv: "det som sades", en: "what was said" },
  new_text: { fi: "Uusi teksti", sv: "Ny text", en: "New text" },
  retranslate: { fi: "Käännä korjattu teksti uudelleen", sv: "Översätt den rättade texten igen", en: "Translate the corrected text again" },
  send_correction: { fi: "Tallenna korjaus", sv: "Spara rättelsen", en: "Save correction" },
  transcript: { fi: "Kaksikielinen litterointi", sv: "Tvåspråkig transkription", en: "Bilingual transcript" },
  connecting: { fi: "Yhdistetään…", sv: "Ansluter…", en: "Connecting…" },
  listening: { fi: "Kuunnellaan", sv: "Lyssnar", en: "Listening" },
  stopping: { fi: "Viimeistellään…", sv: "Avslutar…", en: "Finishing…" },
  ended: { fi: "Päättyi", sv: "Avslutad", en: "Ended" },
  play: { fi: "Toista", sv: "Spela upp", en: "Play" },
  edit: { fi: "Korjaa", sv: "Rätta", en: "Correct" },
  corrected: { fi: "korjattu", sv: "rättad", en: "corrected" },
  confidence: { fi: "varmuus", sv: "säkerhet", en: "confidence" },
  no_mic: { fi: "Mikrofonia ei voi käyttää: sivu tarvitsee HTTPS-yhteyden ja luvan mikrofoniin.",
            sv: "Mikrofonen kan inte användas: sidan behöver HTTPS och tillstånd till mikrofonen.",
            en: "The microphone cannot be used: the page needs HTTPS and permission for the microphone." },
  listen_only: { fi: "Potilas vain lukee ja kuuntelee", sv: "Patienten läser och lyssnar bara", en: "Patient only reads and listens" },
  closed: { fi: "Istunto päättyi", sv: "Sessionen avslutades", en: "The session ended" },
};

const LANGS = [["fi", "suomi"], ["sv", "svenska"], ["en", "English"], ["ar", "العربية"], ["so", "Soomaali"], ["ru", "русский"], ["uk", "українська"]];
const $ = id => document.getElementById(id);

const langSel = $("ui-lang");
langSel.value = uiLang();
langSel.addEventListener("change", () => { setUILang(langSel.value); localize(document, S); });
localize(document, S);
for (const [id, def] of [["lang-a", "fi"], ["lang-b", "en"]]) {
  $(id).replaceChildren(...LANGS.map(([v, name]) => el("option", { value: v }, name)));
  $(id).value = def;
}

let ws = null, audioCtx = null, stream = null, node = null;
const segments = new Map(); // id → {party, li, said, trans}
const playQueue = [];
let playing = false;

function showError(msg) {
  const p = $("error");
  p.textContent = msg;
  p.classList.toggle("hidden", !msg);
}

function setState(state, status) {
  document.body.dataset.state = state;
  $("status").textContent = status || "";
  const running = state === "running" || state === "connecting";
  $("start").disabled = running || state === "stopping";
  $("stop").disabled = state !== "running";
  for (const id of ["lang-a", "lang-b", "listen-b", "synthesis", "glossary"]) $(id).disabled = running || state === "stopping";
}

async function startSession(ev) {
  ev.preventDefault();
  showError("");
  if (!navigator.mediaDevices || !window.AudioWorkletNode) { showError(t(S, "no_mic")); return; }
  setState("connecting", t(S, "connecting"));
  for (const i of [0, 1]) { $("segments-" + i).replaceChildren(); $("partial-" + i).textContent = ""; }
  segments.clear();
  $("correct-segment").replaceChildren();
  $("transcript-box").classList.add("hidden");
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    audioCtx = new AudioContext({ sampleRate: 16000 });
    await audioCtx.resume();
    await audioCtx.audioWorklet.addModule("/ui/interpret/capture-worklet.js");
  } catch (e) {
    cleanupAudio();
    setState("idle");
    showError(t(S, "no_mic") + " (" + e.name + ")");
    return;
  }
  const langs = [$("lang-a").value, $("lang-b").value];
  $("lang-name-0").textContent = "(" + langs[0] + ")";
  $("lang-name-1").textContent = "(" + langs[1] + ")";
  ws = new WebSocket(wsURL("/v1/interpret/sessions"), ["sote.interpret.v1", "bearer." + token()]);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    const start = {
      type: "start", audio: { encoding: "pcm16le", sample_rate: 16000 }, synthesis: $("synthesis").checked,
      parties: [{ speaker: "clinician", language: langs[0], channel: 0 },
        { speaker: "patient", language: langs[1], channel: 1, listen_only: $("listen-b").checked }],
    };
    const g = $("glossary").value.trim();
    if (g) start.glossary = g;
    ws.send(JSON.stringify(start));
  };
  ws.onmessage = m => onEvent(JSON.parse(m.data));
  ws.onclose = c => {
    cleanupAudio();
    if (c.code !== 1000) showError(t(S, "closed") + " (" + c.code + "): " + (c.reason || ""));
    setState("ended", t(S, "ended"));
    ws = null;
  };
}

function startMicrophone() {
  const src = audioCtx.createMediaStreamSource(stream);
  node = new AudioWorkletNode(audioCtx, "pcm16-capture");
  node.port.onmessage = m => {
    if (!ws || ws.readyState !== WebSocket.OPEN || document.body.dataset.state !== "running") return;
    const pcm = new Uint8Array(m.data);
    const frame = new Uint8Array(pcm.length + 1);
    frame[0] = $("listen-b").checked ? 0 : Number($("mic-party").value); // the party speaking: the channel byte
    frame.set(pcm, 1);
    ws.send(frame.buffer);
  };
  src.connect(node);
  node.connect(audioCtx.destination); // silent output keeps the worklet pulled
}

function cleanupAudio() {
  if (node) { node.port.onmessage = null; node.disconnect(); node = null; }
  if (stream) { stream.getTracks().forEach(tr => tr.stop()); stream = null; }
  if (audioCtx) { audioCtx.close(); audioCtx = null; }
}

function stopSession() {
  if (!ws) return;
  setState("stopping", t(S, "stopping"));
  cleanupAudio();
  ws.send(JSON.stringify({ type: "stop" }));
}

function segmentEntry(ev) {
  let s = segments.get(ev.segment);
  if (s) return s;
  const party = ev.channel === 1 ? 1 : 0;
  const said = el("span", { class: "said", lang: ev.language });
  const trans = el("div", { class: "translation" });
  const meta = el("div", { class: "meta" });
  const edit = el("button", { type: "button", class: "edit", onclick: () => pickSegment(ev.segment) }, t(S, "edit"));
  const li = el("li", { class: "segment", id: "seg-" + ev.segment, dataset: { segment: ev.segment } }, said, edit, trans, meta);
  $("segments-" + party).append(li);
  s = { party, li, said, trans, meta };
  segments.set(ev.segment, s);
  $("correct-segment").append(el("option", { value: ev.segment }, ev.segment));
  return s;
}

function pickSegment(id) {
  $("correct-segment").value = id;
  const s = segments.get(id);
  $("correct-text").value = s ? (s.trans.querySelector(".text") || {}).textContent || "" : "";
  $("correct-text").focus();
}

function onEvent(ev) {
  switch (ev.type) {
    case "ready":
      setState("running", t(S, "listening"));
      startMicrophone();
      break;
    case "partial":
      $("partial-" + (ev.channel === 1 ? 1 : 0)).textContent = ev.text;
      break;
    case "final": {
      $("partial-" + (ev.channel === 1 ? 1 : 0)).textContent = "";
      const s = segmentEntry(ev);
      s.said.textContent = ev.text;
      s.li.classList.add("final");
      const conf = ev.confidence >= 0 ? " · " + t(S, "confidence") + " " + Math.round(ev.confidence * 100) + " %" : "";
      s.meta.textContent = ev.segment + " · " + ev.start.toFixed(1) + "–" + ev.end.toFixed(1) + " s" + conf;
      break;
    }
    case "translation": {
      const s = segments.get(ev.segment);
      if (!s) break;
      s.trans.replaceChildren(el("span", { class: "ai-label" }, ev.language), " ", el("span", { class: "text", lang: ev.language }, ev.text));
      s.li.classList.add("translated");
      // The listener's column shows what reaches them, in their language.
      const other = 1 - s.party;
      if ($("lang-" + (other ? "b" : "a")).value === ev.language) {
        const id = "in-" + ev.segment;
        const li = document.getElementById(id) || $("segments-" + other).appendChild(el("li", { class: "incoming", id }));
        li.replaceChildren(el("span", { class: "ai-label" }, ev.segment), " ", el("span", { class: "text", lang: ev.language }, ev.text));
      }
      break;
    }
    case "speech": {
      const s = segments.get(ev.segment);
      if (!s) break;
      const bytes = Uint8Array.from(atob(ev.wav), c => c.charCodeAt(0));
      const url = URL.createObjectURL(new Blob([bytes], { type: "audio/wav" }));
      const audio = el("audio", { class: "speech", src: url, preload: "auto", dataset: { durationMs: ev.duration_ms, bytes: bytes.length } });
      s.li.querySelectorAll("audio.speech, button.play").forEach(n => n.remove());
      s.li.append(audio, el("button", { type: "button", class: "play", onclick: () => audio.play() }, t(S, "play")));
      s.li.classList.add("spoken");
      playQueue.push(audio);
      playNext();
      break;
    }
    case "correction": {
      const s = segments.get(ev.segment);
      if (!s) break;
      if (ev.field === "text") s.said.textContent = ev.text;
      else {
        const tx = s.trans.querySelector(".text"); if (tx) tx.textContent = ev.text;
        const inc = document.querySelector("#in-" + CSS.escape(ev.segment) + " .text"); if (inc) inc.textContent = ev.text;
      }
      if (!s.li.querySelector(".corrected")) s.said.after(el("span", { class: "corrected" }, t(S, "corrected")));
      s.li.classList.add("was-corrected");
      break;
    }
    case "error":
      showError(ev.message + (ev.segment ? " (" + ev.segment + ")" : ""));
      break;
    case "transcript":
      $("transcript").replaceChildren(...(ev.transcript || []).map(turn =>
        el("li", { dataset: { turn: turn.id } }, el("strong", {}, turn.speaker + ": "), el("span", { lang: turn.language }, turn.text),
          ...(turn.translations || []).map(tr => el("div", { class: "translation", lang: tr.language }, tr.language + ": " + tr.text)))));
      $("transcript-box").classList.remove("hidden");
      break;
  }
}

function playNext() {
  if (playing || !playQueue.length) return;
  const a = playQueue.shift();
  playing = true;
  const done = () => { playing = false; playNext(); };
  a.addEventListener("ended", done, { once: true });
  a.play().catch(done);
}

$("setup").addEventListener("submit", startSession);
$("stop").addEventListener("click", stopSession);
$("correct-form").addEventListener("submit", ev => {
  ev.preventDefault();
  const text = $("correct-text").value.trim();
  const segment = $("correct-segment").value;
  if (!ws || !segment || !text) return;
  ws.send(JSON.stringify({ type: "correct", segment, field: $("correct-field").value, text, retranslate: $("correct-retranslate").checked }));
  $("correct-text").value = "";
});

signIn(() => {
  $("app").classList.remove("hidden");
  setState("idle");
}, e => showError(e.message));
