/**
 * ROC curves and scatter plots as standalone SVG files for the benchmark report. Hand-written: the charting
 * libraries that render server-side pull in a browser DOM or a canvas build (native downloads), for what is a few
 * lines and polylines. Every label is XML-escaped.
 */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

interface Frame {
  width: number;
  height: number;
  pad: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function frame(xRange: [number, number], yRange: [number, number], size = 480, pad = 56): Frame {
  const span = (r: [number, number]) => r[1] - r[0] || 1;
  return {
    width: size + pad * 2,
    height: size + pad * 2,
    pad,
    x: (v) => pad + ((v - xRange[0]) / span(xRange)) * size,
    y: (v) => pad + size - ((v - yRange[0]) / span(yRange)) * size,
  };
}

function ticks(lo: number, hi: number, n = 5): number[] {
  return Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
}

function axes(f: Frame, xRange: [number, number], yRange: [number, number], xLabel: string, yLabel: string, title: string): string[] {
  const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
  const out = [
    `<rect x="${f.pad}" y="${f.pad}" width="${f.width - 2 * f.pad}" height="${f.height - 2 * f.pad}" fill="none" stroke="#444"/>`,
    `<text x="${f.width / 2}" y="${f.pad / 2}" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<text x="${f.width / 2}" y="${f.height - 12}" text-anchor="middle" font-size="13">${escapeXml(xLabel)}</text>`,
    `<text x="16" y="${f.height / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 16 ${f.height / 2})">${escapeXml(yLabel)}</text>`,
  ];
  for (const t of ticks(...xRange)) out.push(`<text x="${f.x(t)}" y="${f.height - f.pad + 16}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  for (const t of ticks(...yRange)) out.push(`<text x="${f.pad - 6}" y="${f.y(t) + 3}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  return out;
}

const svg = (f: Frame, body: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif">\n` +
  `<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`;

/** ROC curves (FPR, TPR) of several scorers on one chart, with the chance diagonal and a legend. */
export function rocSvg(curves: { label: string; points: { fpr: number; tpr: number }[] }[], title: string): string {
  const f = frame([0, 1], [0, 1]);
  const body = axes(f, [0, 1], [0, 1], '1 - specificity (false positive rate)', 'sensitivity (true positive rate)', title);
  body.push(`<line x1="${f.x(0)}" y1="${f.y(0)}" x2="${f.x(1)}" y2="${f.y(1)}" stroke="#aaa" stroke-dasharray="4 4"/>`);
  curves.forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = c.points.map((p) => `${f.x(p.fpr).toFixed(1)},${f.y(p.tpr).toFixed(1)}`).join(' ');
    body.push(`<polyline class="roc" fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    body.push(`<text x="${f.x(0.45)}" y="${f.y(0.05 + 0.06 * (curves.length - 1 - i))}" font-size="12" fill="${color}">${escapeXml(c.label)}</text>`);
  });
  return svg(f, body);
}

/** One point per model, labelled, with the Spearman result in the title. */
export function scatterSvg(points: { label: string; x: number; y: number }[], xLabel: string, yLabel: string, title: string): string {
  const range = (vs: number[]): [number, number] => {
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    const m = (hi - lo || Math.abs(hi) || 1) * 0.08;
    return [lo - m, hi + m];
  };
  const xr = range(points.map((p) => p.x));
  const yr = range(points.map((p) => p.y));
  const f = frame(xr, yr);
  const body = axes(f, xr, yr, xLabel, yLabel, title);
  for (const p of points) {
    body.push(`<circle class="point" cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="4" fill="#1f77b4"/>`);
    body.push(`<text x="${(f.x(p.x) + 6).toFixed(1)}" y="${(f.y(p.y) - 6).toFixed(1)}" font-size="10">${escapeXml(p.label)}</text>`);
  }
  return svg(f, body);
}
