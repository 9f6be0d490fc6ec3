// The QA dashboard: plain DOM, no framework. Every value from the node (DICOM headers included, which can carry
// markup) reaches the page as a text node via el(); nothing is ever assigned to innerHTML.
const view = document.getElementById('view');
const errorBox = document.getElementById('error');
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
  return node;
}

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const token = () => sessionStorage.getItem('pmct-token') ?? '';

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token()}` } });
  if (!res.ok) {
    let message = res.statusText;
    try {
      message = (await res.json()).error ?? message;
    } catch {}
    throw new Error(`${res.status}: ${message}`);
  }
  return res;
}
const getJson = async (path) => (await api(path)).json();

// DICOM DA (YYYYMMDD) shown as YYYY-MM-DD; anything else as it is.
const dicomDate = (d) => (/^\d{8}$/.test(d ?? '') ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : (d ?? ''));
const fmt = (v, digits = 3) => (v === null || v === undefined ? 'n/a' : typeof v === 'number' ? v.toFixed(digits) : String(v));
const table = (headers, rows, rowAttrs = () => ({})) =>
  el('table', {}, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))), el('tbody', {}, rows.map((r, i) => el('tr', rowAttrs(i), r.map((c) => el('td', {}, c))))));

// ---- case list ----
const FILTERS = [
  ['from', 'Analysed from', 'date'],
  ['to', 'to', 'date'],
  ['decision', 'Decision', ['', 'present', 'absent', 'none']],
  ['minScore', 'Score ≥', 'number'],
  ['maxScore', 'Score ≤', 'number'],
  ['ensemble', 'Ensemble (name or name@version)', 'text'],
  ['dispatch', 'A delivery is', ['', 'queued', 'sending', 'delivered', 'dead']],
  ['groundTruth', 'Ground truth', ['', 'yes', 'no', 'missing']],
];

async function showCases(params) {
  const form = el('form', { class: 'filters', id: 'filters' });
  for (const [name, label, type] of FILTERS) {
    const input = Array.isArray(type)
      ? el('select', { name }, type.map((o) => el('option', { value: o, selected: params.get(name) === o }, o || 'any')))
      : el('input', { name, type, step: type === 'number' ? '0.01' : undefined, value: params.get(name) ?? '' });
    form.append(el('label', {}, label, input));
  }
  form.append(el('button', { type: 'submit' }, 'Filter'));
  const csv = el('a', { href: '#', id: 'csv' }, 'Export CSV');
  form.append(csv);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== ''));
    location.hash = `cases?${q}`;
  });
  csv.addEventListener('click', async (e) => {
    e.preventDefault();
    const blob = await (await api(`/api/cases.csv?${params}`)).blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: 'cases.csv' });
    a.click();
  });
  const cases = await getJson(`/api/cases?${params}`);
  const rows = cases.map((c) => [
    String(c.id),
    c.patientName ?? '',
    c.patientId ?? '',
    dicomDate(c.studyDate),
    c.analysedAt.replace('T', ' ').slice(0, 19),
    fmt(c.score),
    el('span', { class: c.decision }, c.decision),
    c.ensembles,
    `${c.deliveries.delivered} delivered, ${c.deliveries.queued} queued, ${c.deliveries.dead} dead`,
    c.groundTruth === null ? '—' : c.groundTruth ? 'hemorrhage' : 'no hemorrhage',
  ]);
  view.replaceChildren(
    el('h2', {}, `Cases (${cases.length})`),
    form,
    table(['Case', 'Patient name', 'Patient ID', 'Study date', 'Analysed (UTC)', 'Score', 'Decision', 'Ensemble', 'Deliveries', 'Autopsy'], rows, (i) => ({
      class: 'case',
      'data-case': cases[i].id,
      onclick: () => (location.hash = `case/${cases[i].id}`),
    })),
  );
}

// ---- one case ----
async function showCase(id) {
  const c = await getJson(`/api/cases/${encodeURIComponent(id)}`);
  const current = c.results.filter((r) => r.supersededBy === null);
  const images = el('div', { class: 'slices' });
  for (const o of c.outputs.filter((o) => o.kind === 'sc')) {
    const img = el('img', { alt: `key slice ${o.idx}`, 'data-output': o.id });
    images.append(el('figure', {}, img, el('figcaption', {}, `Key slice ${o.idx} (result ${o.resultId})`)));
    api(`/api/cases/${c.id}/images/${o.id}.png`)
      .then((r) => r.blob())
      .then((b) => (img.src = URL.createObjectURL(b)))
      .catch(showError);
  }
  const gtForm = el(
    'form',
    { id: 'ground-truth' },
    // No default: a finding is entered on purpose (entries are kept for good; a correction is a new entry).
    el('label', {}, 'Autopsy finding ', el('select', { name: 'hemorrhage', required: true }, el('option', { value: '' }, 'choose…'), el('option', { value: 'true' }, 'hemorrhage'), el('option', { value: 'false' }, 'no hemorrhage'))),
    el('label', {}, ' subtypes ', el('input', { name: 'subtypes', placeholder: 'e.g. subdural, subarachnoid' })),
    el('label', {}, ' autopsy date ', el('input', { name: 'autopsyDate', type: 'date' })),
    el('label', {}, ' note ', el('input', { name: 'note' })),
    el('button', { type: 'submit' }, 'Record'),
  );
  gtForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(gtForm);
    const body = { hemorrhage: f.get('hemorrhage') === 'true', subtypes: String(f.get('subtypes')).split(/[ ,]+/).filter(Boolean) };
    if (f.get('autopsyDate')) body.autopsyDate = f.get('autopsyDate');
    if (f.get('note')) body.note = f.get('note');
    await api(`/api/cases/${c.id}/ground-truth`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await showCase(id);
  });
  view.replaceChildren(
    el('p', {}, el('a', { href: '#cases' }, '← all cases')),
    el('h2', { id: 'case-title' }, `Case ${c.id}: `, el('span', { id: 'patient-name' }, c.patientName ?? '(no name)')),
    figures([
      ['Patient ID', c.patientId],
      ['Accession', c.accessionNumber],
      ['Study date', dicomDate(c.studyDate)],
      ['Study UID', c.studyUid],
      ['Score', fmt(c.score, 4)],
      ['Decision', el('span', { class: c.decision }, c.decision)],
      ['Threshold', fmt(c.threshold, 4)],
      ['Ensemble', c.ensembles],
    ]),
    el('h3', {}, 'Key slices'),
    images,
    el('h3', {}, 'Series'),
    table(['Series', 'Description', 'Modality', 'Instances', 'State'], c.series.map((s) => [s.seriesUid, s.description ?? '', s.modality ?? '', String(s.instances), s.state])),
    el('h3', {}, 'Results'),
    table(
      ['Result', 'Status', 'Ensemble', 'Score', 'Decision', 'Threshold (method)', 'Slices', 'Superseded by', 'At'],
      c.results.map((r) => [String(r.id), r.status, `${r.ensembleName}@${r.ensembleVersion}`, fmt(r.caseScore, 4), r.decision ?? '', `${fmt(r.threshold, 4)} (${r.thresholdMethod})`, String(r.sliceCount), r.supersededBy ?? '', r.createdAt]),
    ),
    el('h3', {}, 'Slice probabilities'),
    ...current.filter((r) => r.slices.length).map((r) => sliceChart(r)),
    el('h3', {}, 'Skipped files'),
    table(['Code', 'Kind', 'Message', 'SOP Instance UID'], c.skipped.map((s) => [s.code, s.kind, s.message, s.sopInstanceUid ?? ''])),
    el('h3', {}, 'Outputs and deliveries'),
    table(['Output', 'Kind', 'SOP Instance UID', 'Deliveries'], c.outputs.map((o) => [String(o.id), o.kind, o.sopInstanceUid, o.deliveries.map((d) => `${d.destination}: ${d.state} (${d.attempts} attempts)${d.lastError ? ` ${d.lastError}` : ''}`).join('; ')])),
    el('h3', {}, 'Worklist flags'),
    table(['Result', 'Channel', 'State', 'Attempts', 'Last error'], c.flags.map((f) => [String(f.resultId), f.channel, f.state, String(f.attempts), f.lastError ?? ''])),
    el('h3', {}, 'Autopsy ground truth'),
    table(
      ['Entered', 'By', 'Finding', 'Subtypes', 'Autopsy date', 'Note'],
      c.groundTruthHistory.map((g, i) => [`${g.enteredAt}${i === 0 ? ' (current)' : ''}`, g.enteredBy, g.hemorrhage ? 'hemorrhage' : 'no hemorrhage', g.subtypes.join(', '), g.autopsyDate ?? '', g.note ?? '']),
    ),
    gtForm,
  );
}

function figures(pairs) {
  return el('dl', { class: 'figures' }, pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? '')]));
}

// ---- charts (SVG built node by node) ----
function chart(width, height, title, xLabel, yLabel) {
  const svg = svgEl('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  svg.append(svgEl('title', {}, title), svgEl('text', { x: width / 2, y: 16, 'text-anchor': 'middle', 'font-size': 13 }, title));
  svg.append(svgEl('text', { x: width / 2, y: height - 4, 'text-anchor': 'middle', 'font-size': 11 }, xLabel));
  svg.append(svgEl('text', { x: 12, y: height / 2, 'text-anchor': 'middle', 'font-size': 11, transform: `rotate(-90 12 ${height / 2})` }, yLabel));
  const pad = 36;
  const box = { x0: pad, y0: 24, w: width - pad - 12, h: height - 24 - pad };
  svg.append(svgEl('rect', { x: box.x0, y: box.y0, width: box.w, height: box.h, fill: 'none', stroke: '#888' }));
  // Every chart here has 0..1 on its y axis.
  for (const v of [0, 0.5, 1]) svg.append(svgEl('text', { x: box.x0 - 4, y: box.y0 + box.h - v * box.h + 4, 'text-anchor': 'end', 'font-size': 10 }, v));
  return { svg, box };
}

// Points are also marked when there are few of them (one month, a one-slice series), where a line alone is invisible.
function polyline(svg, box, pts, xr, yr, attrs) {
  const sx = (v) => box.x0 + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * box.w;
  const sy = (v) => box.y0 + box.h - ((v - yr[0]) / (yr[1] - yr[0] || 1)) * box.h;
  svg.append(svgEl('polyline', { fill: 'none', 'stroke-width': 2, ...attrs, points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ') }));
  if (pts.length <= 40 && !attrs['stroke-dasharray']) for (const [x, y] of pts) svg.append(svgEl('circle', { cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 3, fill: attrs.stroke }));
}

function sliceChart(r) {
  const { svg, box } = chart(520, 200, `Result ${r.id}: ensemble probability per slice`, 'slice (inferior → superior)', 'p');
  polyline(svg, box, r.slices.map((s) => [s.index, s.probability]), [0, Math.max(1, r.slices.length - 1)], [0, 1], { stroke: '#1f77b4', class: 'slices' });
  polyline(svg, box, [[0, r.threshold], [Math.max(1, r.slices.length - 1), r.threshold]], [0, Math.max(1, r.slices.length - 1)], [0, 1], { stroke: '#b00020', 'stroke-dasharray': '4 4' });
  return svg;
}

async function showPerformance(params) {
  const p = await getJson(`/api/qa/performance?${params}`);
  const roc = chart(360, 360, 'ROC curve', '1 - specificity', 'sensitivity');
  roc.svg.id = 'roc-chart';
  polyline(roc.svg, roc.box, [[0, 0], [1, 1]], [0, 1], [0, 1], { stroke: '#bbb', 'stroke-dasharray': '4 4' });
  for (const v of [0, 0.5, 1]) roc.svg.append(svgEl('text', { x: roc.box.x0 + v * roc.box.w, y: roc.box.y0 + roc.box.h + 12, 'text-anchor': 'middle', 'font-size': 10 }, v));
  if (p.roc.length) polyline(roc.svg, roc.box, p.roc.map((q) => [q.fpr, q.tpr]), [0, 1], [0, 1], { stroke: '#1f77b4', class: 'roc-curve' });
  const drift = chart(520, 360, 'Performance by month of analysis', 'month', 'value');
  drift.svg.id = 'drift-chart';
  const months = p.monthly.map((m) => m.month);
  const series = [['auc', '#1f77b4'], ['sensitivity', '#d62728'], ['specificity', '#2ca02c']];
  series.forEach(([key, color], k) => {
    const pts = p.monthly.map((m, i) => [i, m[key]]).filter(([, v]) => v !== null);
    if (pts.length) polyline(drift.svg, drift.box, pts, [0, Math.max(1, months.length - 1)], [0, 1], { stroke: color, class: `drift-${key}` });
    drift.svg.append(svgEl('text', { x: drift.box.x0 + 8, y: drift.box.y0 + 14 + 14 * k, 'font-size': 11, fill: color }, key));
  });
  months.forEach((m, i) => drift.svg.append(svgEl('text', { x: drift.box.x0 + (i / Math.max(1, months.length - 1)) * drift.box.w, y: drift.box.y0 + drift.box.h + 14, 'font-size': 10, 'text-anchor': 'middle' }, m)));
  const a = p.auc;
  const m = p.atThreshold;
  const form = el('form', { class: 'filters', id: 'performance-filters' });
  for (const [name, label, type] of [['from', 'Analysed from', 'date'], ['to', 'to', 'date'], ['ensemble', 'Ensemble (name or name@version)', 'text'], ['threshold', 'Threshold (default: in use)', 'number']]) {
    form.append(el('label', {}, label, el('input', { name, type, step: type === 'number' ? '0.001' : undefined, value: params.get(name) ?? '' })));
  }
  form.append(el('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `performance?${new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== ''))}`;
  });
  view.replaceChildren(
    el('h2', {}, 'Performance on cases with autopsy ground truth'),
    form,
    figures([
      ['Cases', `${p.cases} (${p.positives} positive, ${p.negatives} negative); ${p.awaitingGroundTruth} awaiting ground truth`],
      ['ROC AUC', a ? `${fmt(a.auc)}${a.ci95 ? ` (95% CI ${fmt(a.ci95[0])}-${fmt(a.ci95[1])}, DeLong)` : ` (CI undefined: ${a.undefinedReason})`}` : 'n/a'],
      ['Youden threshold', p.youden ? `${fmt(p.youden.threshold, 4)} (sensitivity ${fmt(p.youden.sensitivity)}, specificity ${fmt(p.youden.specificity)})` : 'n/a'],
      ['Threshold in use', fmt(p.threshold, 4)],
      ['At that threshold', `TP ${m.tp}, FP ${m.fp}, TN ${m.tn}, FN ${m.fn}; sensitivity ${fmt(m.sensitivity)}, specificity ${fmt(m.specificity)}, PPV ${fmt(m.ppv)}, NPV ${fmt(m.npv)}`],
    ]),
    ...p.notes.map((n) => el('p', { class: 'note' }, n)),
    el('div', { class: 'charts' }, roc.svg, drift.svg),
  );
}

// ---- routing ----
function showError(e) {
  errorBox.textContent = e instanceof Error ? e.message : String(e);
}

async function route() {
  errorBox.textContent = '';
  const who = document.getElementById('who');
  if (!token()) {
    who.replaceChildren();
    return;
  }
  try {
    const me = await getJson('/api/whoami');
    who.replaceChildren(`signed in as ${me.name} (${me.role}) `, el('button', { type: 'button', id: 'logout', onclick: logout }, 'Sign out'));
  } catch (e) {
    who.replaceChildren();
    return showError(e);
  }
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query ?? '');
  try {
    if (path.startsWith('case/')) await showCase(path.slice(5));
    else if (path === 'performance') await showPerformance(params);
    else await showCases(params);
  } catch (e) {
    showError(e);
  }
}

function logout() {
  sessionStorage.removeItem('pmct-token');
  view.replaceChildren(el('p', {}, 'Enter an API token to start.'));
  route();
}

document.getElementById('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('pmct-token', document.getElementById('token').value);
  document.getElementById('token').value = '';
  route();
});
window.addEventListener('hashchange', route);
route();
