/**
 * The predictor against the real baseline model: sessions on the providers asked for, CUDA falling back to the CPU
 * with a clear log line where its libraries are missing, and manifests that do not describe their ONNX file refused.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/config/config.js';
import { BASELINE_MANIFEST } from '../../src/inference/baseline-model.js';
import { loadEnsemble } from '../../src/inference/manifest.js';
import { createPredictor } from '../../src/inference/predictor.js';
import { tempDir } from '../helpers/peers.js';

const MODELS = join(packageRoot(), 'models');

function capturingLogger() {
  const lines: { level: string; message: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

describe('predictor', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('predictor');
    copyFileSync(join(MODELS, 'baseline-hu-blood-fraction.onnx'), join(dir, 'baseline-hu-blood-fraction.onnx'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const manifestWith = (name: string, change: (m: Record<string, any>) => void) => {
    const m = JSON.parse(readFileSync(join(MODELS, BASELINE_MANIFEST), 'utf8'));
    change(m);
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(m));
    return path;
  };

  it('falls back from CUDA to the CPU with a warning when the CUDA libraries are missing, and still predicts', async () => {
    const { logger, lines } = capturingLogger();
    const ensemble = loadEnsemble([join(MODELS, 'default.ensemble.json')]);
    const predictor = await createPredictor(ensemble, { executionProviders: ['cuda', 'cpu'], batchSize: 2, logger });
    try {
      const warned = lines.some((l) => l.level === 'warn' && /CUDA execution provider unavailable.*CPU/.test(l.message));
      // This is a CPU-only install (onnxruntime-node ships no CUDA libraries): the fallback must happen and be said.
      expect({ provider: predictor.provider, warned }).toEqual({ provider: 'cpu', warned: true });
      // Three blank slices (all channels 0 = air) in batches of 2: no tissue, fraction 0, logit -slope*center.
      const blank = () => new Float32Array(3 * 256 * 256);
      const { probabilities } = await predictor.predict([[blank(), blank(), blank()]]);
      const p = Array.from(probabilities.get('baseline-hu-blood-fraction')!);
      expect(p).toHaveLength(3);
      for (const v of p) expect(v).toBeCloseTo(1 / (1 + Math.exp(40 * 0.15)), 6);
    } finally {
      await predictor.close();
    }
  });

  it('refuses a model whose file is not the one the manifest pins', () => {
    const path = manifestWith('wrong-sha.model.json', (m) => (m.sha256 = '0'.repeat(64)));
    expect(() => loadEnsemble([path])).toThrow(/SHA-256 of .*baseline-hu-blood-fraction\.onnx is [0-9a-f]{64}, the manifest expects 0{64}/);
  });

  it('refuses a manifest whose input or output names are not in the ONNX graph', async () => {
    const { logger } = capturingLogger();
    const badInput = manifestWith('bad-input.model.json', (m) => (m.input.name = 'pixels'));
    await expect(createPredictor(loadEnsemble([badInput]), { executionProviders: ['cpu'], batchSize: 8, logger })).rejects.toThrow(
      /inputs \[input\], not "pixels"/,
    );
    const badOutput = manifestWith('bad-output.model.json', (m) => (m.output.name = 'probs'));
    await expect(createPredictor(loadEnsemble([badOutput]), { executionProviders: ['cpu'], batchSize: 8, logger })).rejects.toThrow(
      /outputs \[logits\], not "probs"/,
    );
  });

  it('refuses a manifest whose input size disagrees with the graph', async () => {
    const { logger } = capturingLogger();
    const path = manifestWith('bad-size.model.json', (m) => (m.input.size = [224, 224]));
    await expect(createPredictor(loadEnsemble([path]), { executionProviders: ['cpu'], batchSize: 8, logger })).rejects.toThrow(
      /\[N, 3, 256, 256\] but the manifest describes \[N, 3, 224, 224\]/,
    );
  });
});
