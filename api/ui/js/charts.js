// Charts as inline SVG, built from the API's figures. Lengths are scaled with BigInt (fen or
// millionths), so no amount passes through a float; every mark carries its exact figure in a
// <title>, and every chart a <title> and <desc> (the tables beside them hold the figures).

import { h, s, uniqueId } from "./dom.js";

const WIDTH = 400;
const SERIES_COLOURS = 6;

function frame(name, title, description, height, children) {
  const titleId = uniqueId("chart-title");
  const descriptionId = uniqueId("chart-desc");
  return s("svg", {
    class: "chart",
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "aria-labelledby": `${titleId} ${descriptionId}`,
    dataset: { chart: name },
  }, s("title", { id: titleId }, title), s("desc", { id: descriptionId }, description), children);
}

/** `value × length / maximum` as a whole number of units (0 when the maximum is 0). */
function scale(value, maximum, length) {
  if (maximum <= 0n) {
    return 0;
  }
  return Number((value * BigInt(length)) / maximum);
}

/**
 * Horizontal bars, one row each: rows [{label, value (BigInt), text, className?}].
 */
export function barChart({ name, title, description, rows }) {
  const rowHeight = 30;
  const labelWidth = 104;
  const valueSpace = 116;
  const barSpace = WIDTH - labelWidth - valueSpace;
  const height = rows.length * rowHeight + 16;
  const maximum = rows.reduce((largest, row) => (row.value > largest ? row.value : largest), 0n);
  const marks = rows.map((row, index) => {
    const y = 8 + index * rowHeight;
    let length = scale(row.value, maximum, barSpace);
    if (row.value > 0n && length < 2) {
      length = 2;
    }
    return s("g", { class: "row", dataset: { label: row.label, value: row.text } },
      s("title", null, `${row.label}: ${row.text}`),
      s("text", { x: labelWidth - 6, y: y + 19, "text-anchor": "end" }, row.label),
      s("rect", {
        class: `bar ${row.className || ""}`.trim(),
        x: labelWidth,
        y: y + 5,
        width: length,
        height: rowHeight - 10,
        rx: 2,
      }),
      s("text", { class: "value", x: labelWidth + length + 6, y: y + 19 }, row.text));
  });
  const axis = s("line", {
    class: "axis", x1: labelWidth, y1: 6, x2: labelWidth, y2: height - 6,
  });
  return frame(name, title, description, height, [axis, marks]);
}

/**
 * Lines over whole-number x: series [{name, points: [{x, y (BigInt), text}]}];
 * `yText(value)` labels the y axis.
 */
export function lineChart({ name, title, description, series, xLabel, yLabel, yText }) {
  const height = 240;
  const left = 72;
  const right = 14;
  const top = 26;
  const bottom = 44;
  const plotWidth = WIDTH - left - right;
  const plotHeight = height - top - bottom;
  const xMaximum = Math.max(1, ...series.flatMap((line) => line.points.map((point) => point.x)));
  const yMaximum = series
    .flatMap((line) => line.points.map((point) => point.y))
    .reduce((largest, value) => (value > largest ? value : largest), 0n);
  const xAt = (x) => left + Math.round((x * plotWidth) / xMaximum);
  const yAt = (y) => top + plotHeight - scale(y, yMaximum, plotHeight);
  const grid = [];
  for (const fraction of [0n, 1n, 2n]) {
    const value = (yMaximum * fraction) / 2n;
    const y = yAt(value);
    grid.push(s("line", { class: fraction === 0n ? "axis" : "grid", x1: left, y1: y, x2: WIDTH - right, y2: y }));
    grid.push(s("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, yText(value)));
  }
  const step = Math.max(1, Math.ceil(xMaximum / 8));
  for (let x = 0; x <= xMaximum; x += step) {
    grid.push(s("text", { x: xAt(x), y: top + plotHeight + 16, "text-anchor": "middle" }, String(x)));
  }
  grid.push(s("text", { x: left + plotWidth / 2, y: height - 6, "text-anchor": "middle" }, xLabel));
  grid.push(s("text", { x: 4, y: 14 }, yLabel));
  const lines = series.map((line, index) => {
    const colour = `series-${index % SERIES_COLOURS}`;
    const coordinates = line.points.map((point) => `${xAt(point.x)},${yAt(point.y)}`).join(" ");
    return s("g", { class: "series", dataset: { series: line.name } },
      s("polyline", { class: `line ${colour}`, points: coordinates }),
      line.points.map((point) => s("circle", {
        class: `dot ${colour}`, cx: xAt(point.x), cy: yAt(point.y), r: 3.5,
      }, s("title", null, `${line.name} · ${point.x}: ${point.text}`))));
  });
  return frame(name, title, description, height, [grid, lines]);
}

/** A legend for a line chart's series. */
export function legend(names) {
  return h("ul", { class: "legend" }, names.map((name, index) =>
    h("li", { class: `series-${index % SERIES_COLOURS}` }, name)));
}
