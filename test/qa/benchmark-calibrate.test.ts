/**
 * Must-show (d): `benchmark` on the labelled real data we hold (the 4 RSNA slices positive; CQ500 and the Philips
 * phantom negative) with three models (the baseline and two reference CNNs), checked against independent answers:
 * AUC and DeLong from scikit-learn/SciPy on the written case scores, parameter counts from Python's onnx package,
 * Spearman from scipy.stats. Where a statistic is undefined for so few cases it must say so, not print a number.
 * Then `calibrate` writes the Youden threshold with its provenance into an ensemble manifest, and refuses when no
 * threshold beats chance.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchmarkReport } from '../../src/qa/benchmark.js';
import { CQ500, DATA, PHANTOM, REPO, run, tempDir, type RunResult } from '../helpers/peers.js';
import { hasPythonStack, hasScipyStack, knownAnswers, py, REF, referenceModels } from '../helpers/python.js';

const CLI = join(REPO, 'dist/src/cli.js');
const BASELINE = join(REPO, 'models/baseline-hu-blood-fraction.model.json');
const RSNA = join(DATA, 'slices/rsna-ich');
const RSNA_FILES = ['ID_0fe31b044_intraparenchymal_subarachnoid', 'ID_1b5ac170c_intraparenchymal', 'ID_2008dd408_epidural_subarachnoid_subdural', 'ID_4f3e8c5c1_intraventricular'];

describe.skipIf(!hasPythonStack || !hasScipyStack)('benchmark and calibrate on the labelled real data', () => {
  let dir: string;
  let models: string[];
  let bench: RunResult;
  let report: BenchmarkReport;
  let scores: Record<string, string>[];

  beforeAll(async () => {
    dir = tempDir('benchmark');
    py([join(REF, 'preprocess.py'), CQ500, '--out', join(dir, 'calib.npz'), '--jobs', '2']);
    models = [BASELINE, ...referenceModels(join(dir, 'models'), ['tiny_cnn', 'efficientnet_b2'], join(dir, 'calib.npz'))];
    writeFileSync(
      join(dir, 'cases.csv'),
      ['case,label,path', ...RSNA_FILES.map((f) => `${f},positive,${join(RSNA, `${f}.dcm`)}`), `cq500-ct-0,negative,${CQ500}`, `philips-head-phantom,negative,${PHANTOM}`].join('\n'),
    );
    // A synthetic reader (1-5 confidence): the real reader scores of the seed study are not public.
    writeFileSync(join(dir, 'reader.csv'), ['case,score', ...RSNA_FILES.map((f, i) => `${f},${[5, 3, 4, 2][i]}`), 'cq500-ct-0,3', 'philips-head-phantom,1'].join('\n'));
    bench = await run(process.execPath, [CLI, 'benchmark', '--cases', join(dir, 'cases.csv'), '--models', ...models, '--reader', join(dir, 'reader.csv'), '--rsna-fix', '--out', join(dir, 'out')]);
    if (bench.status !== 0) throw new Error(`benchmark failed:\n${bench.stderr}`);
    report = JSON.parse(readFileSync(join(dir, 'out/benchmark.json'), 'utf8')) as BenchmarkReport;
    scores = parse(readFileSync(join(dir, 'out/case-scores.csv')), { columns: true }) as Record<string, string>[];
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs to completion with a progress bar and writes the table, CSVs and plots', () => {
    expect(bench.stderr).toMatch(/cases +\[.*\] 6\/6 100%/);
    expect(report.cases).toMatchObject({ total: 6, scored: 6, positives: 4, negatives: 2 });
    for (const f of ['table.md', 'table.csv', 'correlations.csv', 'case-scores.csv', 'benchmark.json', 'roc.svg', 'scatter-auc-inference.svg', 'scatter-auc-parameters.svg', 'scatter-inference-parameters.svg']) {
      expect(existsSync(join(dir, 'out', f)), f).toBe(true);
    }
    const roc = readFileSync(join(dir, 'out/roc.svg'), 'utf8');
    expect(roc.match(/<polyline class="roc"/g)).toHaveLength(4); // 3 models + the reader
    expect(bench.stdout).toContain('| tiny_cnn |');
    console.log(bench.stdout);
  });

  it('per-model AUC, DeLong CI, Youden and the reader test equal scikit-learn/SciPy on the same case scores', () => {
    const labels = scores.map((r) => r.label === '1');
    const reader = scores.map((r) => Number(r.reader));
    for (const m of report.models) {
      const s = scores.map((r) => Number(r[m.model]));
      const [k] = knownAnswers([{ scores: s, labels, threshold: 0.5, scores_b: reader }]);
      expect(m.auc.auc).toBeCloseTo(k!.auc, 12);
      if (k!.se > 0) {
        expect(m.auc.ci95![0]).toBeCloseTo(k!.ci95[0], 10);
        expect(m.auc.ci95![1]).toBeCloseTo(k!.ci95[1], 10);
      } else {
        expect(m.auc.ci95).toBeNull();
        expect(m.auc.undefinedReason).toMatch(/variance is 0/);
      }
      const j = k!.youden.sensitivity + k!.youden.specificity - 1;
      if (j > 0) expect(m.youden).toEqual({ threshold: k!.youden.threshold, sensitivity: expect.closeTo(k!.youden.sensitivity, 12), specificity: expect.closeTo(k!.youden.specificity, 12) });
      else expect(m.youden).toBeNull();
      const t = m.readerTest!;
      if (Number.isFinite(k!.delong_test!.z)) {
        expect(t.z).toBeCloseTo(k!.delong_test!.z, 9);
        expect(t.p).toBeCloseTo(k!.delong_test!.p, 9);
      } else {
        expect(t.z).toBeNull();
        expect(t.undefinedReason).toMatch(/variance of the AUC difference is 0/);
      }
    }
    // With 2 negative cases the statistics are at their limits; the table says so in words.
    const md = readFileSync(join(dir, 'out/table.md'), 'utf8');
    expect(md).toMatch(/\| baseline-hu-blood-fraction \(baseline\) \| 0\.000 \(CI undefined\)/);
    expect(md).toMatch(/DeLong 95% CI undefined: the DeLong variance is 0/);
  });

  it('parameter counts equal those of Python onnx on the same files; Spearman equals scipy.stats.spearmanr', () => {
    const counted = JSON.parse(
      py([
        '-c',
        'import json,sys,onnx,numpy as np\n' +
          'print(json.dumps([int(sum(np.prod(t.dims, dtype=np.int64) for t in onnx.load(p).graph.initializer if t.data_type in (1,10,11,16))) for p in sys.argv[1:]]))',
        ...models.map((m) => join(m, '..', (JSON.parse(readFileSync(m, 'utf8')) as { file: string }).file)),
      ]),
    ) as number[];
    expect(report.models.map((m) => m.parametersOnnx)).toEqual(counted);
    const values = { 'ROC AUC': report.models.map((m) => m.auc.auc), 'inference time (ms/slice)': report.models.map((m) => m.inferenceMsPerSlice), 'parameters (ONNX)': counted };
    const expected = JSON.parse(
      py(['-c', 'import json,sys\nfrom scipy.stats import spearmanr\nv=json.loads(sys.argv[1])\nk=list(v)\nprint(json.dumps([[a,b,*spearmanr(v[a],v[b])] for i,a in enumerate(k) for b in k[i+1:]]))', JSON.stringify(values)]),
    ) as [string, string, number | null, number | null][];
    for (const [x, y, rho, p] of expected) {
      const c = report.correlations.find((r) => r.x === x && r.y === y)!;
      if (rho === null || Number.isNaN(rho)) expect(c.rho).toBeNull();
      else {
        expect(c.rho).toBeCloseTo(rho, 12);
        expect(c.p).toBeCloseTo(p!, 9);
      }
    }
  });

  it('calibrate writes the Youden threshold and its provenance into an ensemble manifest; the node then reports it', async () => {
    const manifest = join(dir, 'models/site.ensemble.json');
    writeFileSync(
      manifest,
      JSON.stringify({ kind: 'ensemble', name: 'site', version: '1', members: [{ manifest: 'tiny_cnn.model.json' }], threshold: { value: 0.5, method: 'fixed' } }),
    );
    const r = await run(process.execPath, [CLI, 'calibrate', '--cases', join(dir, 'cases.csv'), '--manifest', manifest, '--rsna-fix']);
    expect(r.status, r.stderr).toBe(0);
    const tinyScores = scores.map((row) => Number(row.tiny_cnn));
    const [k] = knownAnswers([{ scores: tinyScores, labels: scores.map((row) => row.label === '1'), threshold: 0.5 }]);
    const written = JSON.parse(readFileSync(manifest, 'utf8')) as { threshold: { value: number; method: string; provenance: { auc: number; sensitivity: number; previous: { value: number }; cases: unknown[] } } };
    expect(written.threshold).toMatchObject({ value: k!.youden.threshold, method: 'youden' });
    expect(written.threshold.provenance).toMatchObject({ auc: expect.closeTo(k!.auc, 12), sensitivity: expect.closeTo(k!.youden.sensitivity, 12), previous: { value: 0.5 } });
    expect(written.threshold.provenance.cases).toHaveLength(6);
    expect(r.stdout).toMatch(new RegExp(`threshold ${k!.youden.threshold} \\(youden\\)`));
    // The SR of a case analysed with the calibrated ensemble states that threshold and method.
    const out = await run(process.execPath, [CLI, 'analyze', PHANTOM, '--json', '--models', manifest]);
    const series = (JSON.parse(out.stdout) as { series: { threshold: number }[] }).series;
    expect(series[0]!.threshold).toBe(k!.youden.threshold);
  });

  it('says when the classes differ so much in slices per case that the maximum-slice score is biased', () => {
    expect(report.notes.join('\n')).toMatch(/positive cases have a median of 1 slice\(s\), negative cases 133/);
  });

  it('benchmark refuses a single class, writing nothing; calibrate --out elsewhere writes a manifest that loads', async () => {
    const oneClass = join(dir, 'one-class.csv');
    writeFileSync(oneClass, `case,label,path\ncq500-ct-0,0,${CQ500}\nphantom,0,${PHANTOM}\n`);
    const r = await run(process.execPath, [CLI, 'benchmark', '--cases', oneClass, '--models', BASELINE, '--out', join(dir, 'out-one')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needs positive and negative cases with a score; it has 0 and 2\. Nothing written/);
    expect(existsSync(join(dir, 'out-one'))).toBe(false);

    const out = join(dir, 'elsewhere/site-calibrated.json');
    const folder = await run(process.execPath, [CLI, 'calibrate', '--cases', join(dir, 'cases.csv'), '--manifest', join(dir, 'models/site.ensemble.json'), '--out', dir]);
    expect([folder.status, folder.stderr]).toEqual([1, expect.stringMatching(/is a folder: give the file name/)]);
    mkdirSync(join(dir, 'elsewhere'));
    const c = await run(process.execPath, [CLI, 'calibrate', '--cases', join(dir, 'cases.csv'), '--manifest', join(dir, 'models/site.ensemble.json'), '--out', out, '--rsna-fix']);
    expect(c.status, c.stderr).toBe(0);
    const a = await run(process.execPath, [CLI, 'analyze', PHANTOM, '--json', '--models', out]);
    expect(a.status, a.stderr).toBe(0);
    expect((JSON.parse(a.stdout) as { ensemble: { members: { name: string }[] } }).ensemble.members.map((m) => m.name)).toEqual(['tiny_cnn']);
  });

  it('calibrate will not overwrite the manifest shipped in models/ unless told where to write', async () => {
    const r = await run(process.execPath, [CLI, 'calibrate', '--cases', join(dir, 'cases.csv')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/default\.ensemble\.json is the manifest shipped with the package: give --out FILE/);
  });

  it('calibrate refuses when no threshold beats chance, and leaves the manifest as it was', async () => {
    const manifest = join(dir, 'models/baseline.ensemble.json');
    const before = JSON.stringify({ kind: 'ensemble', name: 'b', version: '1', members: [{ manifest: BASELINE }], threshold: { value: 0.5, method: 'fixed' } });
    writeFileSync(manifest, before);
    const r = await run(process.execPath, [CLI, 'calibrate', '--cases', join(dir, 'cases.csv'), '--manifest', manifest, '--rsna-fix']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no threshold does better than chance.*left as it was/);
    expect(readFileSync(manifest, 'utf8')).toBe(before);
  });
});
