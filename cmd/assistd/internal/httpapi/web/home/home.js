import { localize, signIn, uiLang, setUILang, t, el } from "/ui/common/api.js";

const S = {
  title: { fi: "SOTE-tekoälyyhdyskäytävä", sv: "SOTE AI-gateway", en: "SOTE AI gateway" },
  signedin: { fi: "Kirjautunut:", sv: "Inloggad som", en: "Signed in as" },
};

// Pages by role; each page directory adds itself here.
const PAGES = [
  { href: "/ui/interpret/", roles: ["interpreter", "clinician", "service", "admin"],
    title: { fi: "Tulkkaus", sv: "Tolkning", en: "Interpretation" } },
  { href: "/ui/clinic/", roles: ["clinician", "service"],
    title: { fi: "Digiklinikan avustaja", sv: "Digitala klinikens assistent", en: "Digital clinic assistant" } },
  { href: "/ui/summary/", roles: ["clinician", "service"],
    title: { fi: "Käyntimerkinnän luonnoksen tarkistus", sv: "Granskning av utkast till anteckning", en: "Draft note review" } },
  { href: "/ui/review/", roles: ["risk_reviewer", "admin"],
    title: { fi: "Mallien arviointi ja hyväksyntä", sv: "Granskning och godkännande av modeller", en: "Model evaluation and approval" } },
];

const langSel = document.getElementById("ui-lang");
langSel.value = uiLang();
langSel.addEventListener("change", () => { setUILang(langSel.value); localize(document, S); });
localize(document, S);

signIn(who => {
  document.getElementById("who-name").textContent = who.name || who.token_id || "";
  document.getElementById("who-role").textContent = who.role || "";
  const ul = document.getElementById("pages");
  ul.replaceChildren(...PAGES.filter(p => p.roles.includes(who.role))
    .map(p => el("li", {}, el("a", { href: p.href }, t({ x: p.title }, "x")))));
  document.getElementById("who").classList.remove("hidden");
}, e => {
  const p = document.getElementById("error");
  p.textContent = e.message;
  p.classList.remove("hidden");
});
