// The patient's page: what I owe (per visit and hospital), due dates, what is overdue, my
// credit limit and what is left, my personal medical account, and how each visit was paid,
// in plain words. Everything comes from GET /v1/patients/{id} and /v1/patients/{id}/visits.

import { get, segment } from "./api.js";
import { cards, fill, h, table } from "./dom.js";
import { dateTime, fen, money, sumAmounts } from "./format.js";
import { sentences, t } from "./i18n.js";

const PAST_DUE = ["overdue", "defaulted", "written_off"];

let shown = null;

/** Loads a patient's figures and shows them. */
export async function load(patientId) {
  const [patient, visits] = await Promise.all([
    get(`/v1/patients/${segment(patientId)}`),
    get(`/v1/patients/${segment(patientId)}/visits`),
  ]);
  shown = { patient, visits: visits.visits };
  render();
}

/** Shows what was loaded last (again, after a language switch). */
export function render() {
  if (!shown) {
    return;
  }
  const body = document.getElementById("patient-body");
  fill(body, summary(shown.patient), byHospital(shown.visits), visitList(shown.visits));
}

function isOwing(visit) {
  return fen(visit.outstanding) > 0n;
}

function summary(patient) {
  const overdue = fen(patient.overdue) > 0n;
  const figures = [
    { field: "outstanding", label: t("patient.owe"), raw: patient.outstanding },
    { field: "overdue", label: t("patient.overdue"), raw: patient.overdue, alert: overdue },
    { field: "credit_limit", label: t("patient.limit"), raw: patient.credit_limit },
    { field: "available_credit", label: t("patient.available"), raw: patient.available_credit },
    { field: "credit_held", label: t("patient.held"), raw: patient.credit_held },
    { field: "msa_balance", label: t("patient.msa"), raw: patient.msa_balance },
  ];
  if (fen(patient.refund_owed) > 0n) {
    figures.push({ field: "refund_owed", label: t("patient.refundOwed"), raw: patient.refund_owed });
  }
  for (const figure of figures) {
    figure.value = money(figure.raw);
  }
  const said = [];
  if (fen(patient.outstanding) === 0n) {
    said.push(t("patient.nothing"));
  } else {
    said.push(t("patient.owing", { amount: money(patient.outstanding) }));
    said.push(overdue
      ? t("patient.overdueNote", { amount: money(patient.overdue) })
      : t("patient.onTime"));
  }
  said.push(t("patient.creditNote", {
    limit: money(patient.credit_limit),
    available: money(patient.available_credit),
  }));
  return h("section", { class: "panel", "aria-labelledby": "patient-summary-title", dataset: { patient: patient.patient_id } },
    h("h2", { id: "patient-summary-title" },
      t("patient.who", { id: patient.patient_id }), " ",
      h("span", { class: `badge ${patient.status}`, dataset: { field: "status", value: patient.status } },
        t(`status.${patient.status}`))),
    cards("patient", figures),
    h("p", { class: "lead", dataset: { field: "summary" } }, sentences(said)));
}

function byHospital(visits) {
  const groups = new Map();
  for (const visit of visits.filter(isOwing)) {
    const group = groups.get(visit.hospital_id) || { visits: [], overdue: [], due: [] };
    group.visits.push(visit);
    if (PAST_DUE.includes(visit.status)) {
      group.overdue.push(visit.outstanding);
    }
    if (visit.due_at) {
      group.due.push(visit.due_at);
    }
    groups.set(visit.hospital_id, group);
  }
  const title = h("h2", { id: "patient-hospitals-title" }, t("patient.byHospital"));
  if (groups.size === 0) {
    return h("section", { class: "panel", "aria-labelledby": "patient-hospitals-title" },
      title, h("p", null, t("patient.allPaid")));
  }
  const hospitals = [...groups.keys()].sort();
  const rows = hospitals.map((hospitalId) => {
    const group = groups.get(hospitalId);
    const outstanding = sumAmounts(group.visits.map((visit) => visit.outstanding));
    const overdue = sumAmounts(group.overdue);
    const nextDue = group.due.sort()[0];
    return {
      class: fen(overdue) > 0n ? "overdue" : null,
      dataset: { hospital: hospitalId },
      cells: [hospitalId, String(group.visits.length), money(outstanding), money(overdue), dateTime(nextDue)],
    };
  });
  const owing = visits.filter(isOwing);
  const footer = [
    t("total"),
    String(owing.length),
    money(sumAmounts(owing.map((visit) => visit.outstanding))),
    money(sumAmounts(owing.filter((visit) => PAST_DUE.includes(visit.status)).map((visit) => visit.outstanding))),
    "",
  ];
  return h("section", { class: "panel", "aria-labelledby": "patient-hospitals-title" }, title, table({
    name: "patient-hospitals",
    captionShown: false,
    caption: t("patient.byHospital"),
    columns: [
      { label: t("col.hospital") },
      { label: t("col.visitsOwing"), numeric: true },
      { label: t("col.outstanding"), numeric: true },
      { label: t("col.overdue"), numeric: true },
      { label: t("col.nextDue") },
    ],
    rows,
    footer,
  }));
}

function split(settlement) {
  const total = fen(settlement.total);
  if (total === 0n) {
    return null;
  }
  const parts = [
    ["fund", settlement.fund_paid],
    ["msa", settlement.msa_paid],
    ["financed", settlement.financed],
    ["collected", settlement.collect_now],
  ];
  const bar = h("div", { class: "split", "aria-hidden": "true" });
  for (const [name, amount] of parts) {
    const permille = (fen(amount) * 1000n) / total;
    if (permille > 0n) {
      const span = h("span", { class: name });
      span.style.width = `${permille / 10n}.${permille % 10n}%`;
      bar.append(span);
    }
  }
  const legend = h("ul", { class: "legend", "aria-label": t("split.label", { total: money(settlement.total) }) },
    parts.map(([name, amount]) => h("li", { class: name }, `${t(`split.${name}`)} ${money(amount)}`)));
  return [bar, legend];
}

function words(visit) {
  const settlement = visit.settlement;
  if (visit.status === "open") {
    return t("visit.openWords", { total: money(visit.total), held: money(visit.credit_held) });
  }
  if (visit.status === "cancelled" || !settlement) {
    return t("visit.cancelledWords");
  }
  const said = [t("visit.settledWords", {
    total: money(settlement.total),
    fund: money(settlement.fund_paid),
    msa: money(settlement.msa_paid),
    financed: money(settlement.financed),
    collected: money(settlement.collect_now),
  })];
  if (isOwing(visit) && PAST_DUE.includes(visit.status)) {
    said.push(t("visit.overdueWords", { due: dateTime(visit.due_at), outstanding: money(visit.outstanding) }));
  } else if (isOwing(visit)) {
    said.push(t("visit.owingWords", {
      paid: money(visit.paid), outstanding: money(visit.outstanding), due: dateTime(visit.due_at),
    }));
  } else if (fen(visit.paid) > 0n) {
    said.push(t("visit.paidWords", { paid: money(visit.paid) }));
  } else {
    said.push(t("visit.nothingWords"));
  }
  if (fen(visit.refund_owed) > 0n) {
    said.push(t("visit.refundWords", { amount: money(visit.refund_owed) }));
  }
  return sentences(said);
}

/** A settled visit with nothing left to repay is "settled", not "to repay". */
function statusText(visit) {
  if (visit.status === "settled" && !isOwing(visit)) {
    return t("visitStatus.settledNothingOwed");
  }
  return t(`visitStatus.${visit.status}`);
}

function visitCard(visit) {
  const pastDue = isOwing(visit) && PAST_DUE.includes(visit.status);
  const settled = visit.settlement;
  const classes = ["visit", pastDue ? "past-due" : "", visit.status === "paid" ? "paid" : ""];
  const headingId = `visit-${visit.hospital_id}-${visit.visit_id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const rows = [
    [t("visit.bill"), money(visit.total), "total"],
    settled
      ? [t("visit.settled"), dateTime(settled.settled_at), "settled_at"]
      : [t("visit.opened"), dateTime(visit.timeline.opened_at), "opened_at"],
  ];
  if (settled) {
    // A due date matters only for what was put on the credit line.
    if (fen(settled.financed) > 0n) {
      rows.push([t("visit.due"), dateTime(visit.due_at), "due_at"]);
    }
    rows.push([t("visit.toPay"), money(visit.outstanding), "outstanding"]);
  }
  return h("li", {
    class: classes.filter(Boolean).join(" "),
    "aria-labelledby": headingId,
    dataset: { hospital: visit.hospital_id, visit: visit.visit_id, status: visit.status },
  },
  h("header", null,
    h("h3", { id: headingId }, t("visit.heading", { hospital: visit.hospital_id, visit: visit.visit_id })),
    h("span", { class: `badge ${visit.status}`, dataset: { field: "status-label" } }, statusText(visit))),
  h("p", { class: "hint" }, t(`kind.${visit.kind}`)),
  h("dl", null, rows.map(([label, value, field]) => [h("dt", null, label), h("dd", { dataset: { field } }, value)])),
  settled ? split(settled) : null,
  h("p", { class: "breakdown", dataset: { field: "breakdown" } }, words(visit)));
}

function visitList(visits) {
  const title = h("h2", { id: "patient-visits-title" }, t("patient.visits"));
  if (visits.length === 0) {
    return h("section", { "aria-labelledby": "patient-visits-title" }, title, h("p", null, t("patient.noVisits")));
  }
  const newestFirst = [...visits].reverse();
  return h("section", { "aria-labelledby": "patient-visits-title" }, title,
    h("ul", { class: "visits", dataset: { list: "visits" } }, newestFirst.map(visitCard)));
}
