// The finance dashboard: the headline figures, aging, default rates by hospital, vintage
// curves and the write-off register, each exactly as the report endpoints return them
// (the same calls finance staff make), and the reconciliation upload with its result.

import { ApiError, get, postText } from "./api.js";
import { barChart, legend, lineChart } from "./charts.js";
import { cards, fill, h, table } from "./dom.js";
import { count, dateTime, day, fen, millionths, money, rate, sumAmounts } from "./format.js";
import { t } from "./i18n.js";

const BUCKETS = ["current", "1-7", "8-30", "31-60", "61-90", "91+"];
/** Rows of the write-off register listed on the page (the totals cover them all). */
const WRITE_OFFS_LISTED_MAX = 200;
/** Rows of a reconciliation result listed on the page (the counts cover them all). */
const RESULT_LINES_LISTED_MAX = 100;

let shown = null;
let reconciled = null;

/** Loads every report for the range {from, to} and shows them. */
export async function load(range) {
  const [headline, aging] = await Promise.all([get("/v1/reports/headline"), get("/v1/reports/aging")]);
  // The default rates are counted up to the same instant as the aging.
  const [defaults, writeOffs] = await Promise.all([
    get("/v1/reports/defaults", { from: range.from, to: range.to, as_of: aging.as_of }),
    get("/v1/reports/write-offs"),
  ]);
  shown = { headline, aging, defaults, writeOffs };
  render();
}

/** Shows what was loaded last (again, after a language switch). */
export function render() {
  if (shown) {
    const { headline, aging, defaults, writeOffs } = shown;
    fill(document.getElementById("finance-body"),
      h("p", { class: "hint", dataset: { asOf: aging.as_of }, id: "finance-as-of" },
        t("finance.asOf", { time: dateTime(aging.as_of) })),
      headlinePanel(headline),
      agingPanel(aging),
      agingByHospitalPanel(aging),
      defaultsPanel(defaults),
      vintagePanel(defaults),
      writeOffPanel(writeOffs));
  }
  renderReconciliation();
}

function panel(name, title, ...children) {
  const id = `finance-${name}-title`;
  return h("section", { class: "panel", "aria-labelledby": id, dataset: { panel: name } },
    h("h2", { id }, title), children);
}

function headlinePanel(headline) {
  const amounts = ["credit_extended", "repaid", "defaulted", "recovered", "outstanding", "written_off"];
  const rates = ["default_rate_per_100_000", "net_default_rate_per_100_000"];
  const counts = ["patients_enrolled", "hospitals", "visits_settled"];
  const figures = [
    ...amounts.map((field) => ({ field, raw: headline[field], value: money(headline[field]) })),
    ...rates.map((field) => ({ field, raw: headline[field], value: rate(headline[field]) })),
    ...counts.map((field) => ({ field, raw: String(headline[field]), value: count(headline[field]) })),
  ].map((figure) => ({ ...figure, label: t(`headline.${figure.field}`) }));
  return panel("headline", t("headline.title"), cards("headline", figures));
}

function agingPanel(aging) {
  const rows = aging.buckets.map((bucket) => ({
    label: t(`bucket.${bucket.bucket}`),
    value: fen(bucket.amount),
    text: money(bucket.amount),
    className: `bucket-${BUCKETS.indexOf(bucket.bucket)}`,
  }));
  const list = rows.map((row) => `${row.label} ${row.text}`).join("; ");
  return panel("aging", t("aging.title"), h("div", { class: "side-by-side" },
    barChart({
      name: "aging",
      title: t("aging.chartTitle"),
      description: t("aging.chartDesc", { time: dateTime(aging.as_of), list }),
      rows,
    }),
    table({
      name: "aging",
      caption: t("aging.caption"),
      columns: [
        { label: t("col.bucket") },
        { label: t("col.amount"), numeric: true },
        { label: t("col.visits"), numeric: true },
      ],
      rows: aging.buckets.map((bucket) => ({
        dataset: { bucket: bucket.bucket },
        cells: [t(`bucket.${bucket.bucket}`), money(bucket.amount), count(bucket.count)],
      })),
      footer: [t("total"), money(aging.total), count(aging.count)],
    })));
}

function agingByHospitalPanel(aging) {
  return panel("aging-hospitals", t("aging.byHospital"), table({
    name: "aging-hospitals",
    captionShown: false,
    caption: t("aging.byHospital"),
    columns: [
      { label: t("col.hospital") },
      ...BUCKETS.map((bucket) => ({ label: t(`bucket.${bucket}`), numeric: true })),
      { label: t("col.total"), numeric: true },
    ],
    rows: aging.by_hospital.map((hospital) => ({
      dataset: { hospital: hospital.hospital_id },
      cells: [hospital.hospital_id, ...hospital.buckets.map((bucket) => money(bucket.amount)), money(hospital.total)],
    })),
    footer: [t("total"), ...aging.buckets.map((bucket) => money(bucket.amount)), money(aging.total)],
  }));
}

function defaultsPanel(defaults) {
  const amounts = ["credit_extended", "defaulted_amount", "recovered_amount", "net_defaulted_amount"];
  const rates = ["default_rate_by_amount", "net_default_rate_by_amount", "default_rate_by_count", "default_rate_by_patient"];
  const figures = [
    ...amounts.map((field) => ({ field, raw: defaults[field], value: money(defaults[field]) })),
    ...rates.map((field) => ({ field, raw: defaults[field], value: rate(defaults[field]) })),
  ].map((figure) => ({ ...figure, label: t(`defaults.${figure.field}`) }));
  const range = h("p", { class: "hint", dataset: { from: defaults.from, to: defaults.to } },
    t("defaults.range", { from: defaults.from, to: defaults.to, asOf: dateTime(defaults.as_of) }));
  const hospitals = defaults.by_hospital;
  if (hospitals.length === 0) {
    return panel("defaults", t("defaults.title"), range, cards("defaults", figures), h("p", null, t("defaults.none")));
  }
  const rows = hospitals.map((hospital) => ({
    label: hospital.hospital_id,
    value: millionths(hospital.default_rate_by_amount),
    text: rate(hospital.default_rate_by_amount),
  }));
  return panel("defaults", t("defaults.title"), range, cards("defaults", figures),
    barChart({
      name: "defaults-hospitals",
      title: t("defaults.chartTitle"),
      description: t("defaults.chartDesc", { list: rows.map((row) => `${row.label} ${row.text}`).join("; ") }),
      rows: rows.map((row) => ({ ...row, className: "hbar" })),
    }),
    table({
      name: "defaults-hospitals",
      caption: t("defaults.byHospital"),
      columns: [
        { label: t("col.hospital") },
        { label: t("col.creditExtended"), numeric: true },
        { label: t("col.defaulted"), numeric: true },
        { label: t("col.recovered"), numeric: true },
        { label: t("col.rateAmount"), numeric: true },
        { label: t("col.rateCount"), numeric: true },
      ],
      rows: hospitals.map((hospital) => ({
        dataset: { hospital: hospital.hospital_id },
        cells: [
          hospital.hospital_id,
          money(hospital.credit_extended),
          money(hospital.defaulted_amount),
          money(hospital.recovered_amount),
          rate(hospital.default_rate_by_amount),
          rate(hospital.default_rate_by_count),
        ],
      })),
    }));
}

function rateText(value) {
  return `${value / 1000000n}.${(value % 1000000n).toString().padStart(6, "0")}`;
}

function vintagePanel(defaults) {
  const curves = defaults.vintages;
  if (curves.length === 0) {
    return panel("vintages", t("vintage.title"), h("p", null, t("vintage.none")));
  }
  const months = Math.max(0, ...curves.flatMap((curve) => curve.points.map((point) => point.months_since_settlement)));
  const series = curves.map((curve) => ({
    name: curve.cohort,
    points: curve.points.map((point) => ({
      x: point.months_since_settlement,
      y: millionths(point.default_rate_by_amount),
      text: rate(point.default_rate_by_amount),
    })),
  }));
  const monthColumns = Array.from({ length: months + 1 }, (_, month) => month);
  return panel("vintages", t("vintage.title"),
    lineChart({
      name: "vintages",
      title: t("vintage.chartTitle"),
      description: t("vintage.chartDesc", { months }),
      series,
      xLabel: t("vintage.axisX"),
      yLabel: t("vintage.axisY"),
      yText: rateText,
    }),
    legend(curves.map((curve) => curve.cohort)),
    table({
      name: "vintages",
      caption: t("vintage.caption"),
      columns: [
        { label: t("col.cohort") },
        { label: t("col.creditExtended"), numeric: true },
        ...monthColumns.map((month) => ({ label: t("col.month", { n: month }), numeric: true })),
      ],
      rows: curves.map((curve) => ({
        dataset: { cohort: curve.cohort },
        cells: [
          curve.cohort,
          money(curve.credit_extended),
          ...monthColumns.map((month) => {
            const point = curve.points.find((candidate) => candidate.months_since_settlement === month);
            return point ? rate(point.default_rate_by_amount) : "";
          }),
        ],
      })),
    }));
}

function truncatedNote(listed, total) {
  return listed < total ? h("p", { class: "hint" }, t("truncated", { shown: count(listed), count: count(total) })) : null;
}

function writeOffPanel(register) {
  const summary = h("p", { dataset: { field: "write-offs-summary" } }, t("writeOffs.summary", {
    count: count(register.count),
    written: money(register.total_written_off),
    recovered: money(register.total_recovered),
  }));
  if (register.entries.length === 0) {
    return panel("write-offs", t("writeOffs.title"), h("p", null, t("writeOffs.none")));
  }
  const entries = register.entries.slice(0, WRITE_OFFS_LISTED_MAX);
  return panel("write-offs", t("writeOffs.title"), summary, truncatedNote(entries.length, register.entries.length),
    table({
      name: "write-offs",
      caption: t("writeOffs.caption"),
      columns: [
        { label: t("col.visit") },
        { label: t("col.hospital") },
        { label: t("col.patient") },
        { label: t("col.writtenOffAt") },
        { label: t("col.writtenOff"), numeric: true },
        { label: t("col.recovered"), numeric: true },
        { label: t("col.stillOwed"), numeric: true },
      ],
      rows: entries.map((entry) => ({
        dataset: { hospital: entry.hospital_id, visit: entry.visit_id },
        cells: [
          entry.visit_id,
          entry.hospital_id,
          entry.patient_id,
          day(entry.written_off_at),
          money(entry.amount),
          money(entry.recovered),
          money(entry.outstanding),
        ],
      })),
      footer: [
        t("total"), "", "", "",
        money(register.total_written_off),
        money(register.total_recovered),
        money(sumAmounts(register.entries.map((entry) => entry.outstanding))),
      ],
    }));
}

/** Uploads the chosen CSV file to the reconciliation endpoint of its kind. */
export async function reconcile(kind, file, announce) {
  const name = file.name;
  announce(t("recon.working", { name }));
  const text = await file.text();
  try {
    const result = await postText(`/v1/reconciliations/${kind}`, text, "text/csv");
    reconciled = { name, kind, result };
    announce(t("recon.done", { name }));
  } catch (error) {
    if (error instanceof ApiError && Array.isArray(error.problem.errors)) {
      reconciled = { name, kind, errors: error.problem.errors, detail: error.message };
      announce(t("recon.malformed", { count: error.problem.errors.length }));
    } else {
      throw error;
    }
  }
  renderReconciliation();
}

function lineTable(name, caption, lines, kind) {
  if (lines.length === 0) {
    return null;
  }
  const listed = lines.slice(0, RESULT_LINES_LISTED_MAX);
  const fund = kind === "fund";
  return [truncatedNote(listed.length, lines.length), table({
    name,
    caption,
    columns: [
      { label: t("col.line"), numeric: true },
      { label: fund ? t("col.reference") : t("col.payment") },
      { label: fund ? t("col.visit") : t("col.channel") },
      { label: t("col.amount"), numeric: true },
      { label: t("col.expected"), numeric: true },
      { label: t("col.reason"), wrap: true },
    ],
    rows: listed.map((line) => ({
      cells: [
        String(line.line),
        fund ? line.reference : line.payment_id,
        fund ? `${line.hospital_id} / ${line.visit_id}` : line.channel,
        money(line.amount),
        line.expected ? money(line.expected) : "—",
        line.reason,
      ],
    })),
  })];
}

function renderReconciliation() {
  const target = document.getElementById("reconciliation-result");
  if (!reconciled) {
    fill(target);
    return;
  }
  const { name, kind, result, errors } = reconciled;
  const title = h("h3", null, t("recon.resultTitle", { name }));
  if (errors) {
    fill(target, title,
      h("p", { class: "error", role: "alert", dataset: { field: "malformed" } }, t("recon.malformed", { count: errors.length })),
      table({
        name: "reconciliation-errors",
        caption: t("recon.errorsCaption"),
        columns: [{ label: t("col.line"), numeric: true }, { label: t("col.reason"), wrap: true }],
        rows: errors.map((error) => ({ cells: [String(error.line), error.message] })),
      }));
    return;
  }
  const figures = [
    { field: "matched", raw: String(result.matched), value: count(result.matched) },
    ...(kind === "fund" ? [{ field: "posted", raw: String(result.posted), value: count(result.posted) }] : []),
    { field: "matched_amount", raw: result.matched_amount, value: money(result.matched_amount) },
    { field: "mismatched", raw: String(result.mismatched.length), value: count(result.mismatched.length) },
    { field: "unknown", raw: String(result.unknown.length), value: count(result.unknown.length) },
    { field: "missing_count", raw: String(result.missing_count), value: count(result.missing_count) },
    ...(kind === "fund" ? [{ field: "missing_amount", raw: result.missing_amount, value: money(result.missing_amount) }] : []),
  ].map((figure) => ({ ...figure, label: t(`recon.${figure.field}`) }));
  const missing = result.missing.slice(0, RESULT_LINES_LISTED_MAX);
  const missingTable = missing.length === 0 ? null : [truncatedNote(missing.length, result.missing_count), table({
    name: "reconciliation-missing",
    caption: t("recon.missingCaption"),
    columns: kind === "fund"
      ? [{ label: t("col.hospital") }, { label: t("col.visit") }, { label: t("col.fundShare"), numeric: true }]
      : [{ label: t("col.payment") }, { label: t("col.channel") }, { label: t("col.amount"), numeric: true }],
    rows: missing.map((line) => ({
      cells: kind === "fund"
        ? [line.hospital_id, line.visit_id, money(line.fund_share)]
        : [line.payment_id, line.channel, money(line.amount)],
    })),
  })];
  fill(target, title, cards("reconciliation", figures),
    lineTable("reconciliation-mismatched", t("recon.mismatchedCaption"), result.mismatched, kind),
    lineTable("reconciliation-unknown", t("recon.unknownCaption"), result.unknown, kind),
    missingTable);
}
