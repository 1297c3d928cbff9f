// Start-up, sign-in and the choice of page by the token's role.

import { ApiError, session, signIn, signOut, whenUnauthorized } from "./api.js";
import { fill } from "./dom.js";
import * as finance from "./finance.js";
import { chinaToday } from "./format.js";
import * as hospital from "./hospital.js";
import { initialLanguage, language, setLanguage, t } from "./i18n.js";
import * as patient from "./patient.js";

const VIEWS = ["sign-in", "patient", "finance", "hospital", "no-page"];
/** The default range of the default rates: the last year. */
const RANGE_DAYS = 365;

const element = (id) => document.getElementById(id);

function announce(text) {
  element("status").textContent = text;
}

function show(view) {
  for (const name of VIEWS) {
    element(name).hidden = name !== view;
  }
  const signedIn = view !== "sign-in";
  element("sign-out").hidden = !signedIn;
  element("who").hidden = !signedIn;
  document.body.dataset.view = view;
}

function describe(error) {
  if (error instanceof ApiError && error.status === 0) {
    return t("error.network");
  }
  return t("error.generic", { detail: error instanceof Error ? error.message : String(error) });
}

/** Runs a load for a view, marking it busy, then loaded (or failed). */
async function run(view, task) {
  const section = element(view);
  section.setAttribute("aria-busy", "true");
  section.dataset.loaded = "false";
  announce(t("loading"));
  try {
    await task();
    section.dataset.loaded = "true";
    announce("");
  } catch (error) {
    section.dataset.loaded = "error";
    if (!(error instanceof ApiError && error.status === 401)) {
      announce(describe(error));
    }
  } finally {
    section.removeAttribute("aria-busy");
  }
}

function whoText(grant) {
  if (grant.role === "patient") {
    return t("who.patient", { id: grant.patient_id });
  }
  if (grant.role === "hospital") {
    return t("who.hospital", { id: grant.hospital_id });
  }
  return t(`who.${grant.role}`);
}

function financeRange() {
  return { from: element("range-from").value, to: element("range-to").value };
}

/** Shows the page of the signed-in role and loads it. */
function route(grant) {
  element("who").textContent = whoText(grant);
  switch (grant.role) {
    case "patient":
      show("patient");
      return run("patient", () => patient.load(grant.patient_id));
    case "hospital":
      show("hospital");
      element("settlement-date").value = element("settlement-date").value || chinaToday();
      return run("hospital", () => hospital.load(grant.hospital_id, element("settlement-date").value));
    case "finance":
    case "admin":
      show("finance");
      element("range-from").value = element("range-from").value || chinaToday(RANGE_DAYS);
      element("range-to").value = element("range-to").value || chinaToday();
      return run("finance", () => finance.load(financeRange()));
    default:
      show("no-page");
      element("no-page-text").textContent = t("noPage.text", { role: grant.role });
      return Promise.resolve();
  }
}

function showSignIn(message) {
  for (const body of ["patient-body", "finance-body", "hospital-body", "hospital-settlements", "reconciliation-result"]) {
    fill(element(body));
  }
  for (const view of ["patient", "finance", "hospital"]) {
    delete element(view).dataset.loaded;
  }
  show("sign-in");
  element("sign-in-error").textContent = message || "";
}

function rerender() {
  const current = session();
  if (current) {
    element("who").textContent = whoText(current.grant);
    element("no-page-text").textContent = t("noPage.text", { role: current.grant.role });
  }
  patient.render();
  finance.render();
  hospital.render();
}

function languageButton() {
  const button = element("language");
  const target = language() === "en" ? "zh-CN" : "en";
  button.textContent = t("language.switch");
  button.setAttribute("lang", target);
  button.setAttribute("aria-label", t("language.label"));
  button.dataset.target = target;
}

function wire() {
  element("language").addEventListener("click", () => {
    setLanguage(element("language").dataset.target);
    languageButton();
    rerender();
  });

  element("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = element("token");
    const token = input.value.trim();
    const error = element("sign-in-error");
    if (!token) {
      error.textContent = t("signIn.empty");
      input.focus();
      return;
    }
    const button = element("sign-in-submit");
    button.disabled = true;
    error.textContent = "";
    try {
      const grant = await signIn(token);
      input.value = "";
      const loading = route(grant);
      element("main").focus();
      await loading;
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401
        ? t("signIn.refused")
        : describe(failure);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });

  element("sign-out").addEventListener("click", () => {
    signOut();
    showSignIn("");
    announce(t("signedOut"));
    element("token").focus();
  });

  element("finance-range").addEventListener("submit", (event) => {
    event.preventDefault();
    run("finance", () => finance.load(financeRange()));
  });

  element("reconciliation-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = element("reconciliation-result");
    const file = element("reconciliation-file").files[0];
    if (!file) {
      result.dataset.state = "error";
      announce(t("recon.noFile"));
      return;
    }
    result.dataset.state = "working";
    try {
      await finance.reconcile(element("reconciliation-kind").value, file, announce);
      result.dataset.state = "done";
    } catch (failure) {
      result.dataset.state = "error";
      if (!(failure instanceof ApiError && failure.status === 401)) {
        announce(describe(failure));
      }
    }
  });

  element("hospital-day").addEventListener("submit", (event) => {
    event.preventDefault();
    const current = session();
    if (current && current.grant.role === "hospital") {
      run("hospital", () => hospital.loadDay(current.grant.hospital_id, element("settlement-date").value));
    }
  });

  whenUnauthorized(() => showSignIn(t("expired")));
}

function start() {
  setLanguage(initialLanguage());
  languageButton();
  wire();
  const current = session();
  if (current) {
    route(current.grant);
  } else {
    show("sign-in");
  }
}

start();
