/**
 * `benchmark`: the method study's Table 2 on a site's own labelled cases. Per model: ROC AUC with DeLong's 95%
 * interval, sensitivity and specificity at the Youden threshold, inference time, the parameter count read from the
 * ONNX file, and training time when a manifest states it (`provenance.trainingSeconds`); Spearman's rho and p for
 * every pair of those; ROC curves and scatter plots as SVG; and, given reader scores, the reader's AUC and a DeLong
 * test of each model against the reader. Written as Markdown, CSV, JSON and SVG into one folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Config } from '../config/config.js';
import { loadEnsemble } from '../inference/manifest.js';
import { onnxParameterCount } from '../inference/onnx-parameters.js';
import type { Logger } from '../log/logger.js';
import type { Progress } from '../log/progress.js';
import { loadLabelledCases, loadReaderScores } from './labelled-cases.js';
import { rocSvg, scatterSvg } from './plots.js';
import { scoreLabelledCases, sliceCountImbalance, type ScoredCase } from './score-cases.js';
import { aucWithCi, delongCaution, delongTest, rocPoints, spearman, youden, type AucWithCi, type DelongTest } from './stats.js';

export interface BenchmarkOptions {
  cases: string;
  models: string[];
  reader?: string;
  out: string;
  rsnaFix?: boolean;
}

export interface ModelRow {
  model: string;
  version: string;
  auc: AucWithCi;
  youden: { threshold: number; sensitivity: number; specificity: number } | null;
  inferenceMsPerSlice: number;
  inferenceSeconds: number;
  parametersOnnx: number;
  parametersDeclared: number | null;
  trainingSeconds: number | null;
  baseline: boolean;
  readerTest: DelongTest | null;
}

export interface Correlation {
  x: string;
  y: string;
  n: number;
  rho: number | null;
  p: number | null;
  undefinedReason: string | null;
}

export interface BenchmarkReport {
  cases: { total: number; scored: number; positives: number; negatives: number; unscored: { case: string; reason: string }[] };
  models: ModelRow[];
  reader: { auc: AucWithCi; cases: number } | null;
  correlations: Correlation[];
  notes: string[];
  files: string[];
}

const VARIABLES = {
  auc: 'ROC AUC',
  inference: 'inference time (ms/slice)',
  parameters: 'parameters (ONNX)',
  training: 'training time (s)',
} as const;
type Variable = keyof typeof VARIABLES;

function value(row: ModelRow, v: Variable): number | null {
  return v === 'auc' ? row.auc.auc : v === 'inference' ? row.inferenceMsPerSlice : v === 'parameters' ? row.parametersOnnx : row.trainingSeconds;
}

function correlate(rows: ModelRow[], x: Variable, y: Variable): Correlation {
  const xs = rows.map((r) => value(r, x));
  const ys = rows.map((r) => value(r, y));
  const base = { x: VARIABLES[x], y: VARIABLES[y], n: rows.length, rho: null, p: null };
  if (xs.some((v) => v === null) || ys.some((v) => v === null)) return { ...base, undefinedReason: `not every model has a ${xs.some((v) => v === null) ? VARIABLES[x] : VARIABLES[y]}` };
  if (rows.length < 3) return { ...base, undefinedReason: `needs at least 3 models (has ${rows.length})` };
  const constant = [xs, ys].findIndex((vs) => new Set(vs).size === 1);
  if (constant >= 0) return { ...base, undefinedReason: `${constant === 0 ? VARIABLES[x] : VARIABLES[y]} is the same for every model` };
  const r = spearman(xs as number[], ys as number[]);
  return { ...base, rho: r.rho, p: r.p, undefinedReason: null };
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));

function aucText(a: AucWithCi): string {
  return a.ci95 ? `${f3(a.auc)} (${f3(a.ci95[0])}-${f3(a.ci95[1])})` : `${f3(a.auc)} (CI undefined)`;
}

function markdown(r: BenchmarkReport, title: string): string {
  const lines = [
    `# ${title}`,
    '',
    `Cases: ${r.cases.scored} scored of ${r.cases.total} (${r.cases.positives} positive, ${r.cases.negatives} negative). ` +
      'Case score = maximum slice probability; score >= threshold is positive. AUC 95% CI by DeLong.',
    '',
    '| Model | ROC AUC (95% CI) | Sensitivity | Specificity | Youden threshold | Inference (ms/slice) | Inference total (s) | Parameters (ONNX) | Training (s) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.models.map(
      (m) =>
        `| ${m.model}${m.baseline ? ' (baseline)' : ''} | ${aucText(m.auc)} | ${f3(m.youden?.sensitivity)} | ${f3(m.youden?.specificity)} | ` +
        `${m.youden ? m.youden.threshold.toPrecision(4) : 'n/a'} | ${m.inferenceMsPerSlice.toFixed(2)} | ${m.inferenceSeconds.toFixed(2)} | ${m.parametersOnnx.toLocaleString('en-US')}${m.parametersDeclared !== null && m.parametersDeclared !== m.parametersOnnx ? ` (manifest: ${m.parametersDeclared.toLocaleString('en-US')})` : ''} | ${m.trainingSeconds ?? 'n/a'} |`,
    ),
  ];
  if (r.reader) lines.push(`| Reader | ${aucText(r.reader.auc)} | | | | | | | |`);
  lines.push('', '## Spearman correlations between models', '', '| Variables | n | rho | p (two-sided) |', '|---|---|---|---|');
  for (const c of r.correlations) lines.push(`| ${c.x} vs ${c.y} | ${c.n} | ${c.rho === null ? `undefined: ${c.undefinedReason}` : c.rho.toFixed(3)} | ${c.p === null ? 'n/a' : c.p.toFixed(3)} |`);
  if (r.reader) {
    lines.push('', '## Models against the reader (DeLong test of correlated AUCs)', '', '| Model | AUC model | AUC reader | z | p |', '|---|---|---|---|---|');
    for (const m of r.models) {
      const t = m.readerTest!;
      lines.push(`| ${m.model} | ${f3(t.aucA)} | ${f3(t.aucB)} | ${t.z === null ? `undefined: ${t.undefinedReason}` : t.z.toFixed(3)} | ${t.p === null ? 'n/a' : t.p.toFixed(4)} |`);
    }
  }
  if (r.cases.unscored.length) lines.push('', '## Cases without a score', '', ...r.cases.unscored.map((u) => `- ${u.case}: ${u.reason}`));
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  lines.push('', `Files: ${r.files.join(', ')}`, '');
  return lines.join('\n');
}

export async function runBenchmark(opts: BenchmarkOptions, config: Config, logger: Logger, progress: Progress): Promise<BenchmarkReport> {
  const labelled = loadLabelledCases(opts.cases);
  const reader = opts.reader ? loadReaderScores(opts.reader) : undefined;
  const pooled = loadEnsemble(opts.models);
  const run = await scoreLabelledCases(labelled, pooled, config, logger, progress, opts.rsnaFix);
  const scored = run.cases.filter((c): c is ScoredCase & { unscoredReason: null } => c.unscoredReason === null);
  const labels = scored.map((c) => c.label);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  const notes: string[] = [];
  if (!positives || !negatives) {
    const unscored = run.cases.filter((c) => c.unscoredReason).map((c) => `${c.id}: ${c.unscoredReason}`);
    throw new Error(
      `the benchmark needs positive and negative cases with a score; it has ${positives} and ${negatives}. Nothing written.` +
        (unscored.length ? ` Cases without a score: ${unscored.join('; ')}` : ''),
    );
  }
  const caution = delongCaution(positives, negatives);
  if (caution) notes.push(caution);

  let readerScores: number[] | undefined;
  if (reader) {
    const missing = scored.filter((c) => !reader.has(c.id)).map((c) => c.id);
    if (missing.length) notes.push(`reader comparison left out: no reader score for ${missing.join(', ')}`);
    else readerScores = scored.map((c) => reader.get(c.id)!);
  }

  const models: ModelRow[] = pooled.members.map(({ model }) => {
    const name = model.manifest.name;
    const scores = scored.map((c) => c.modelScores[name]!);
    const auc = aucWithCi(scores, labels);
    const y = youden(scores, labels);
    if (auc.undefinedReason) notes.push(`${name}: DeLong 95% CI undefined: ${auc.undefinedReason}`);
    if (y && !Number.isFinite(y.threshold)) notes.push(`${name}: no threshold separates any positive from the negatives better than chance (Youden J = 0)`);
    const training = (model.manifest.provenance as { trainingSeconds?: unknown }).trainingSeconds;
    return {
      model: name,
      version: model.manifest.version,
      auc,
      youden: y && Number.isFinite(y.threshold) ? { threshold: y.threshold, sensitivity: y.sensitivity, specificity: y.specificity } : null,
      inferenceMsPerSlice: run.slices ? run.inferenceMs[name]! / run.slices : 0,
      inferenceSeconds: run.inferenceMs[name]! / 1000,
      parametersOnnx: onnxParameterCount(model.onnxPath),
      parametersDeclared: model.manifest.parameters ?? null,
      trainingSeconds: typeof training === 'number' ? training : null,
      baseline: model.manifest.baseline,
      readerTest: readerScores ? delongTest(scores, readerScores, labels) : null,
    };
  });

  for (const m of models) {
    if (m.auc.auc < 0.5) notes.push(`${m.model}: AUC ${f3(m.auc.auc)} is below 0.5: it ranks the negative cases above the positive ones more often than not`);
  }
  if (models.some((m) => m.parametersDeclared !== null && m.parametersDeclared !== m.parametersOnnx)) {
    notes.push(
      'parameters are counted from the ONNX file (its floating-point initializers): fixed constants count, batch norm folded into convolutions at export does not, so the count can differ from the one a manifest declares',
    );
  }
  const sliceBias = sliceCountImbalance(scored);
  if (sliceBias) notes.push(sliceBias);

  const vars: Variable[] = ['auc', 'inference', 'parameters', ...(models.some((m) => m.trainingSeconds !== null) ? (['training'] as const) : [])];
  const correlations = vars.flatMap((x, i) => vars.slice(i + 1).map((y) => correlate(models, x, y)));
  if (!models.some((m) => m.trainingSeconds !== null)) notes.push('training time: no manifest states provenance.trainingSeconds, so its correlations are left out');

  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(opts.out, name), text);
    files.push(name);
  };
  const report: BenchmarkReport = {
    cases: {
      total: run.cases.length,
      scored: scored.length,
      positives,
      negatives,
      unscored: run.cases.filter((c) => c.unscoredReason).map((c) => ({ case: c.id, reason: c.unscoredReason! })),
    },
    models,
    reader: readerScores ? { auc: aucWithCi(readerScores, labels), cases: readerScores.length } : null,
    correlations,
    notes,
    files,
  };

  const curves = models.map((m) => ({ label: `${m.model} AUC ${f3(m.auc.auc)}`, points: rocPoints(scored.map((c) => c.modelScores[m.model]!), labels) }));
  if (report.reader) curves.push({ label: `reader AUC ${f3(report.reader.auc.auc)}`, points: rocPoints(readerScores!, labels) });
  write('roc.svg', rocSvg(curves, `ROC curves, ${scored.length} cases`));
  for (const c of correlations) {
    const [x, y] = (Object.keys(VARIABLES) as Variable[]).filter((v) => VARIABLES[v] === c.x || VARIABLES[v] === c.y);
    const points = models.map((m) => ({ label: m.model, x: value(m, x!), y: value(m, y!) })).filter((p): p is { label: string; x: number; y: number } => p.x !== null && p.y !== null);
    if (points.length === 0) continue;
    const stat = c.rho === null ? `rho undefined` : `rho ${c.rho.toFixed(3)}, p ${c.p!.toFixed(3)}`;
    write(`scatter-${x}-${y}.svg`, scatterSvg(points, c.x, c.y, `${c.x} vs ${c.y} (${stat})`));
  }
  write(
    'table.csv',
    stringify([
      ['model', 'version', 'auc', 'auc_ci_low', 'auc_ci_high', 'auc_ci_note', 'youden_threshold', 'sensitivity', 'specificity', 'inference_ms_per_slice', 'inference_s', 'parameters_onnx', 'parameters_declared', 'training_s'],
      ...models.map((m) => [m.model, m.version, m.auc.auc, m.auc.ci95?.[0] ?? '', m.auc.ci95?.[1] ?? '', m.auc.undefinedReason ?? '', m.youden?.threshold ?? '', m.youden?.sensitivity ?? '', m.youden?.specificity ?? '', m.inferenceMsPerSlice, m.inferenceSeconds, m.parametersOnnx, m.parametersDeclared ?? '', m.trainingSeconds ?? '']),
    ]),
  );
  write('correlations.csv', stringify([['x', 'y', 'n', 'rho', 'p', 'note'], ...correlations.map((c) => [c.x, c.y, c.n, c.rho ?? '', c.p ?? '', c.undefinedReason ?? ''])]));
  write(
    'case-scores.csv',
    stringify([
      ['case', 'label', 'slices', ...models.map((m) => m.model), ...(reader ? ['reader'] : []), 'note'],
      ...run.cases.map((c) => [c.id, c.label ? 1 : 0, c.slices, ...models.map((m) => c.modelScores[m.model] ?? ''), ...(reader ? [reader.get(c.id) ?? ''] : []), c.unscoredReason ?? '']),
    ]),
  );
  files.push('table.md', 'benchmark.json');
  writeFileSync(join(opts.out, 'table.md'), markdown(report, `Benchmark on ${scored.length} labelled cases`));
  writeFileSync(join(opts.out, 'benchmark.json'), JSON.stringify(report, null, 1));
  return report;
}
