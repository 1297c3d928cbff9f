// The hospital desk: open visits and their authorizations, and a day's settlements
// (today by default), from GET /v1/hospitals/{id}, .../open-visits and .../settlements.

import { get, segment } from "./api.js";
import { cards, fill, h, table } from "./dom.js";
import { count, dateTime, money } from "./format.js";
import { t } from "./i18n.js";

let shown = null;
let day = null;

/** Loads the hospital and its open visits, and the settlements of `date` (YYYY-MM-DD). */
export async function load(hospitalId, date) {
  const base = `/v1/hospitals/${segment(hospitalId)}`;
  const [hospital, open, settled] = await Promise.all([
    get(base),
    get(`${base}/open-visits`),
    get(`${base}/settlements`, { date }),
  ]);
  shown = { hospital, open };
  day = settled;
  render();
}

/** Loads another day's settlements. */
export async function loadDay(hospitalId, date) {
  day = await get(`/v1/hospitals/${segment(hospitalId)}/settlements`, { date });
  render();
}

/** Shows what was loaded last (again, after a language switch). */
export function render() {
  if (!shown) {
    return;
  }
  const { hospital, open } = shown;
  fill(document.getElementById("hospital-body"),
    h("p", { class: "lead", dataset: { hospital: hospital.hospital_id } },
      t("hospital.who", { name: hospital.name, id: hospital.hospital_id, level: hospital.level })),
    openPanel(open));
  fill(document.getElementById("hospital-settlements"), settlementsPanel(day));
}

function truncated(list, total) {
  return list.length < total
    ? h("p", { class: "hint" }, t("truncated", { shown: count(list.length), count: count(total) }))
    : null;
}

function openPanel(open) {
  const title = h("h2", { id: "hospital-open-title" }, t("hospital.open"));
  const section = (...children) => h("section", {
    class: "panel", "aria-labelledby": "hospital-open-title", dataset: { panel: "open-visits", asOf: open.as_of },
  }, title, children);
  if (open.count === 0) {
    return section(h("p", null, t("hospital.noOpen")));
  }
  return section(
    h("p", { dataset: { field: "open-summary" } }, t("hospital.openSummary", {
      count: count(open.count),
      authorized: money(open.authorized_total),
      held: money(open.credit_held_total),
    })),
    truncated(open.visits, open.count),
    table({
      name: "open-visits",
    captionShown: false,
      caption: t("hospital.open"),
      columns: [
        { label: t("col.visit") },
        { label: t("col.patient") },
        { label: t("col.kind") },
        { label: t("col.openedAt") },
        { label: t("col.estimate"), numeric: true },
        { label: t("col.authorized"), numeric: true },
        { label: t("col.held"), numeric: true },
        { label: t("col.charged"), numeric: true },
      ],
      rows: open.visits.map((visit) => ({
        dataset: { visit: visit.visit_id },
        cells: [
          visit.visit_id,
          visit.patient_id,
          t(`kind.${visit.kind}`),
          dateTime(visit.opened_at),
          money(visit.estimated_amount),
          money(visit.authorized_amount),
          money(visit.credit_held),
          money(visit.total),
        ],
      })),
      footer: [t("total"), "", "", "", "", money(open.authorized_total), money(open.credit_held_total), ""],
    }));
}

function settlementsPanel(settled) {
  const title = h("h2", { id: "hospital-day-title" }, t("hospital.settlements", { date: settled.date }));
  const section = (...children) => h("section", {
    class: "panel", "aria-labelledby": "hospital-day-title", dataset: { panel: "settlements", date: settled.date },
  }, title, children);
  if (settled.count === 0) {
    return section(h("p", null, t("hospital.noSettlements")));
  }
  const totals = settled.totals;
  const figures = [
    ["total", "col.bill"], ["fund_paid", "col.fund"], ["msa_paid", "col.msa"],
    ["financed", "col.financed"], ["collect_now", "col.collected"],
  ].map(([field, label]) => ({ field, label: t(label), raw: totals[field], value: money(totals[field]) }));
  return section(
    h("p", { dataset: { field: "settlements-summary" } }, t("hospital.settlementsSummary", {
      count: count(settled.count),
      total: money(totals.total),
      fund: money(totals.fund_paid),
      msa: money(totals.msa_paid),
      financed: money(totals.financed),
      collected: money(totals.collect_now),
    })),
    cards("settlement-totals", figures),
    truncated(settled.settlements, settled.count),
    table({
      name: "settlements",
    captionShown: false,
      caption: t("hospital.settlements", { date: settled.date }),
      columns: [
        { label: t("col.visit") },
        { label: t("col.patient") },
        { label: t("col.settledAt") },
        { label: t("col.bill"), numeric: true },
        { label: t("col.fund"), numeric: true },
        { label: t("col.msa"), numeric: true },
        { label: t("col.financed"), numeric: true },
        { label: t("col.collected"), numeric: true },
        { label: t("col.due") },
        { label: t("col.status") },
      ],
      rows: settled.settlements.map((settlement) => ({
        dataset: { visit: settlement.visit_id },
        cells: [
          settlement.visit_id,
          settlement.patient_id,
          dateTime(settlement.settled_at),
          money(settlement.total),
          money(settlement.fund_paid),
          money(settlement.msa_paid),
          money(settlement.financed),
          money(settlement.collect_now),
          dateTime(settlement.due_at),
          settlement.status === "settled" ? t("visitStatus.settledNothingOwed") : t(`visitStatus.${settlement.status}`),
        ],
      })),
      footer: [t("total"), "", "", money(totals.total), money(totals.fund_paid), money(totals.msa_paid),
        money(totals.financed), money(totals.collect_now), "", ""],
    }));
}
