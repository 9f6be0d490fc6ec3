/**
 * tools/export_onnx.py turns a seed architecture into ONNX + a node manifest. With torchvision's DenseNet201, a
 * fixed seed and random weights, the node (`analyze --models <exported manifest>`) must give the same slice
 * probabilities as PyTorch running the same architecture, rebuilt from the same seed, on the reference's tensors.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CQ500, REPO, tempDir } from '../helpers/peers.js';
import { hasPythonStack, py, REF } from '../helpers/python.js';

const SEED = 7;
// Every 20th slice of the study: skull base to vertex, enough to show agreement without 238 DenseNet passes twice.
const FILES = readdirSync(CQ500)
  .sort()
  .filter((_, i) => i % 20 === 0)
  .map((f) => join(CQ500, f));

describe.skipIf(!hasPythonStack)('tools/export_onnx.py (torchvision densenet201, seed 7, random weights)', () => {
  let dir: string;
  let manifest: { sha256: string; parameters: number; output: { kind: string }; provenance: { library: string } };
  let node: { series: { slices: { sopInstanceUid: string; probabilities: Record<string, number> }[] }[] };
  let torch: { uids: string[]; probs: number[] };

  beforeAll(() => {
    dir = tempDir('export');
    py([join(REPO, 'tools/export_onnx.py'), '--arch', 'densenet201', '--library', 'torchvision', '--seed', String(SEED), '--out', join(dir, 'models')]);
    manifest = JSON.parse(readFileSync(join(dir, 'models/densenet201.model.json'), 'utf8'));

    const r = spawnSync(process.execPath, [join(REPO, 'dist/src/cli.js'), 'analyze', ...FILES, '--json', '--models', join(dir, 'models/densenet201.model.json')], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(`analyze failed:\n${r.stderr}`);
    node = JSON.parse(r.stdout);

    // PyTorch side: the reference's own preprocessing, and the model rebuilt by the exporter's code from the seed.
    py([join(REF, 'preprocess.py'), ...FILES, '--out', join(dir, 'ref.npz')]);
    torch = JSON.parse(
      py([
        '-c',
        `import sys, json, numpy as np, torch
sys.path.insert(0, sys.argv[1])
from export_onnx import build
torch.set_num_threads(2)
torch.manual_seed(int(sys.argv[3]))
model, _ = build("densenet201", "torchvision", 1)
model.eval()
z = np.load(sys.argv[2])
with torch.no_grad():
    p = torch.sigmoid(model(torch.from_numpy(z["tensors"]))[:, 0]).double().numpy()
print(json.dumps({"uids": [str(u) for u in z["sop_instance_uids"]], "probs": p.tolist()}))`,
        join(REPO, 'tools'),
        join(dir, 'ref.npz'),
        String(SEED),
      ]),
    );
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a manifest the node accepts: logit output, parameter count, provenance', () => {
    expect(manifest.output.kind).toBe('logit');
    // torchvision documents DenseNet201 at 20,013,928 parameters with its 1000-class head (1920 features in).
    expect(manifest.parameters).toBe(20_013_928 - (1920 * 1000 + 1000) + (1920 + 1));
    expect(manifest.provenance.library).toMatch(/^torchvision /);
  });

  it('gives the same slice probabilities as PyTorch within 1e-4', () => {
    const slices = node.series[0]!.slices;
    expect(slices).toHaveLength(FILES.length);
    expect(slices.map((s) => s.sopInstanceUid)).toEqual(torch.uids);
    const diffs = slices.map((s, i) => Math.abs(s.probabilities.densenet201! - torch.probs[i]!));
    process.stderr.write(`export_onnx: densenet201 seed ${SEED}, ${diffs.length} CQ500 slices, max |p_node - p_torch| = ${Math.max(...diffs).toExponential(2)}\n`);
    expect(Math.max(...diffs)).toBeLessThan(1e-4);
    // Random weights still give slice-dependent outputs: the comparison is not between constants.
    expect(new Set(torch.probs.map((p) => p.toFixed(6))).size).toBeGreaterThan(1);
  });
});
