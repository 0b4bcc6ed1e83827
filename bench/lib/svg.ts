/**
 * Hand-written SVG charts for the report: grouped bars and lines, several panels side by side in
 * one file. No chart library: the output is small, diffable and renders on GitHub.
 */

/** Grouped bars: one group per category, one bar per series. */
export interface BarChart {
  kind: 'bar';
  title: string;
  unit: string;
  categories: string[];
  series: Array<{ name: string; values: Array<number | null> }>;
}

/** Lines over a numeric x axis (e.g. latency against offered load). */
export interface LineChart {
  kind: 'line';
  title: string;
  unit: string;
  xLabel: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
}

export type Chart = BarChart | LineChart;

const PANEL_W = 440;
const PANEL_H = 310;
const PER_ROW = 3;
const PLOT = { left: 62, right: 16, top: 44, bottom: 92 };
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#b07aa1', '#edc948'];
const BASELINE_COLOR = '#9aa0a6';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A short label for a number: 1.23k, 45.6, 0.123. */
export function compact(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return String(Math.round(v));
  if (a === 0) return '0';
  return String(Number(v.toPrecision(3)));
}

/** A round axis maximum and tick step covering `max`. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

function colorOf(name: string, index: number): string {
  return /baseline|bare|node-postgres|raw/i.test(name) ? BASELINE_COLOR : COLORS[index % COLORS.length];
}

function axes(out: string[], w: number, h: number, top: number, step: number, unit: string): void {
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = PLOT.top + h - (v / top) * h;
    out.push(`<line x1="${PLOT.left}" x2="${PLOT.left + w}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${PLOT.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#555">${compact(v)}</text>`,
    );
  }
  out.push(`<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.top + h}" stroke="#888"/>`);
  out.push(`<line x1="${PLOT.left}" x2="${PLOT.left + w}" y1="${PLOT.top + h}" y2="${PLOT.top + h}" stroke="#888"/>`);
  out.push(
    `<text x="14" y="${PLOT.top + h / 2}" font-size="11" fill="#555" transform="rotate(-90 14 ${PLOT.top + h / 2})" text-anchor="middle">${esc(unit)}</text>`,
  );
}

function legend(out: string[], names: string[], y: number): void {
  let x = PLOT.left;
  let row = 0;
  for (const [i, name] of names.entries()) {
    const width = 22 + name.length * 6.4;
    if (x + width > PANEL_W - 8 && x > PLOT.left) {
      x = PLOT.left;
      row++;
    }
    const ly = y + row * 16;
    out.push(`<rect x="${x}" y="${ly - 9}" width="12" height="10" fill="${colorOf(name, i)}"/>`);
    out.push(`<text x="${x + 16}" y="${ly}" font-size="11" fill="#333">${esc(name)}</text>`);
    x += width;
  }
}

function barPanel(chart: BarChart): string {
  const out: string[] = [];
  const w = PANEL_W - PLOT.left - PLOT.right;
  const h = PANEL_H - PLOT.top - PLOT.bottom;
  const values = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const { top, step } = niceScale(Math.max(0, ...values));
  axes(out, w, h, top, step, chart.unit);
  const groupW = w / Math.max(1, chart.categories.length);
  const barW = Math.min(40, (groupW * 0.8) / Math.max(1, chart.series.length));
  for (const [c, category] of chart.categories.entries()) {
    const gx = PLOT.left + c * groupW + (groupW - barW * chart.series.length) / 2;
    for (const [s, series] of chart.series.entries()) {
      const v = series.values[c];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      const bh = (v / top) * h;
      const x = gx + s * barW;
      const y = PLOT.top + h - bh;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${colorOf(series.name, s)}"><title>${esc(`${series.name} · ${category}: ${compact(v)} ${chart.unit}`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${compact(v)}</text>`,
      );
    }
    out.push(
      `<text x="${(PLOT.left + c * groupW + groupW / 2).toFixed(1)}" y="${PLOT.top + h + 16}" text-anchor="middle" font-size="11" fill="#333">${esc(category)}</text>`,
    );
  }
  legend(
    out,
    chart.series.map((s) => s.name),
    PLOT.top + h + 40,
  );
  return out.join('\n');
}

function linePanel(chart: LineChart): string {
  const out: string[] = [];
  const w = PANEL_W - PLOT.left - PLOT.right;
  const h = PANEL_H - PLOT.top - PLOT.bottom;
  const points = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const { top, step } = niceScale(Math.max(0, ...points.map(([, y]) => y)));
  axes(out, w, h, top, step, chart.unit);
  const xs = [...new Set(points.map(([x]) => x))].sort((a, b) => a - b);
  const xMax = Math.max(1, ...xs);
  const sx = (x: number) => PLOT.left + (x / xMax) * (w - 10);
  const sy = (y: number) => PLOT.top + h - (y / top) * h;
  for (const x of xs) {
    out.push(
      `<text x="${sx(x).toFixed(1)}" y="${PLOT.top + h + 16}" text-anchor="middle" font-size="11" fill="#333">${compact(x)}</text>`,
    );
  }
  out.push(
    `<text x="${PLOT.left + w / 2}" y="${PLOT.top + h + 31}" text-anchor="middle" font-size="11" fill="#555">${esc(chart.xLabel)}</text>`,
  );
  for (const [s, series] of chart.series.entries()) {
    const color = colorOf(series.name, s);
    const pts = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const [x, y] of pts) {
      out.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${series.name} @ ${compact(x)}: ${compact(y)} ${chart.unit}`)}</title></circle>`,
      );
    }
  }
  legend(
    out,
    chart.series.map((s) => s.name),
    PLOT.top + h + 52,
  );
  return out.join('\n');
}

/** One SVG document: a title and the charts as panels, three to a row. */
export function renderSvg(title: string, charts: readonly Chart[]): string {
  const cols = Math.min(PER_ROW, Math.max(1, charts.length));
  const rows = Math.ceil(charts.length / PER_ROW) || 1;
  const width = cols * PANEL_W;
  const height = rows * PANEL_H + 30;
  const panels = charts.map((chart, i) => {
    const x = (i % PER_ROW) * PANEL_W;
    const y = 30 + Math.floor(i / PER_ROW) * PANEL_H;
    return [
      `<g transform="translate(${x},${y})">`,
      `<text x="${PANEL_W / 2}" y="22" text-anchor="middle" font-size="13" font-weight="bold" fill="#222">${esc(chart.title)}</text>`,
      chart.kind === 'bar' ? barPanel(chart) : linePanel(chart),
      '</g>',
    ].join('\n');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold" fill="#111">${esc(title)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
