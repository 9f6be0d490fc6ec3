/**
 * Runs an ensemble's member models with onnxruntime-node: one session per member, created once and reused for
 * every series; slices go through in batches; each member's output becomes a probability per slice.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Logger } from '../log/logger.js';
import type { SlicePredictor } from '../pipeline/analyze.js';
import { specKey } from '../imaging/preprocess.js';
import { ManifestError, type InputSpec, type LoadedEnsemble, type LoadedModel } from './manifest.js';

export type ExecutionProvider = 'cuda' | 'cpu';

export interface PredictorOptions {
  executionProviders: ExecutionProvider[];
  batchSize: number;
  logger: Logger;
}

export interface Predictor extends SlicePredictor {
  /** The execution provider the sessions actually run on. */
  readonly provider: ExecutionProvider;
  close(): Promise<void>;
}

type Ort = typeof import('onnxruntime-node');

let ortModule: Promise<Ort> | undefined;

/**
 * onnxruntime-node reads ORT_DISABLE_TELEMETRY when its native library loads; a hospital node must not phone home,
 * so the variable is set before the first (dynamic) import, never after.
 */
export function loadOrt(): Promise<Ort> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  ortModule ??= import('onnxruntime-node').then((ort) => {
    // ORT's own logger would print a red error when CUDA's libraries are missing before the fallback below says so
    // in words; session errors still reach us as rejected promises.
    ort.env.logLevel = 'fatal';
    return ort;
  });
  return ortModule;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

interface Member {
  model: LoadedModel;
  session: InferenceSession;
  specIndex: number;
}

async function createSession(ort: Ort, model: LoadedModel, providers: ExecutionProvider[]): Promise<InferenceSession> {
  return ort.InferenceSession.create(model.onnxPath, {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    // ORT's own warnings go to its stderr logger; errors still surface as rejected promises.
    logSeverityLevel: 3,
  });
}

/** Opens the first session on the configured providers; when `cuda` cannot load, says so once and uses the CPU. */
async function openSessions(ort: Ort, models: LoadedModel[], wanted: ExecutionProvider[], logger: Logger) {
  let providers: ExecutionProvider[] = wanted.includes('cuda') ? ['cuda', 'cpu'] : ['cpu'];
  const sessions: InferenceSession[] = [];
  for (const model of models) {
    try {
      sessions.push(await createSession(ort, model, providers));
    } catch (err) {
      if (providers[0] !== 'cuda') throw err;
      logger.warn(
        `CUDA execution provider unavailable (${(err as Error).message.split('\n')[0]}); running inference on the CPU. ` +
          'Install the onnxruntime CUDA libraries to use the GPU.',
      );
      providers = ['cpu'];
      sessions.push(await createSession(ort, model, providers));
    }
  }
  return { sessions, provider: providers[0]! };
}

function checkSessionMatchesManifest(session: InferenceSession, model: LoadedModel): void {
  const { input, output } = model.manifest;
  if (!session.inputNames.includes(input.name)) {
    throw new ManifestError(`the ONNX model has inputs [${session.inputNames.join(', ')}], not "${input.name}"`, model.manifestPath);
  }
  if (!session.outputNames.includes(output.name)) {
    throw new ManifestError(`the ONNX model has outputs [${session.outputNames.join(', ')}], not "${output.name}"`, model.manifestPath);
  }
  const meta = session.inputMetadata.find((m) => m.name === input.name);
  if (meta?.isTensor && meta.shape.length === 4) {
    const expected = [input.windows.length, input.size[0], input.size[1]];
    const fixed = meta.shape.slice(1);
    fixed.forEach((d, i) => {
      if (typeof d === 'number' && d !== expected[i]) {
        throw new ManifestError(
          `the ONNX input "${input.name}" is [N, ${fixed.join(', ')}] but the manifest describes [N, ${expected.join(', ')}]`,
          model.manifestPath,
        );
      }
    });
  }
}

export async function createPredictor(ensemble: LoadedEnsemble, options: PredictorOptions): Promise<Predictor> {
  const ort = await loadOrt();
  const models = ensemble.members.map((m) => m.model);
  const { sessions, provider } = await openSessions(ort, models, options.executionProviders, options.logger);
  const specs: InputSpec[] = [];
  const specIndexByKey = new Map<string, number>();
  const members: Member[] = models.map((model, i) => {
    checkSessionMatchesManifest(sessions[i]!, model);
    const key = specKey(model.manifest.input);
    if (!specIndexByKey.has(key)) {
      specIndexByKey.set(key, specs.length);
      specs.push(model.manifest.input);
    }
    return { model, session: sessions[i]!, specIndex: specIndexByKey.get(key)! };
  });
  options.logger.info('inference sessions ready', { provider, models: models.map((m) => m.manifest.name) });

  const runMember = async (member: Member, slices: Float32Array[]): Promise<Float64Array> => {
    const { input, output } = member.model.manifest;
    const [h, w] = input.size;
    const perSlice = input.windows.length * h * w;
    const probs = new Float64Array(slices.length);
    for (let start = 0; start < slices.length; start += options.batchSize) {
      const batch = slices.slice(start, start + options.batchSize);
      const data = new Float32Array(batch.length * perSlice);
      batch.forEach((t, i) => {
        if (t.length !== perSlice) throw new Error(`slice tensor has ${t.length} values, ${member.model.manifest.name} needs ${perSlice}`);
        data.set(t, i * perSlice);
      });
      const feeds = { [input.name]: new ort.Tensor('float32', data, [batch.length, input.windows.length, h, w]) };
      const result = await member.session.run(feeds, [output.name]);
      const out = result[output.name]!;
      const values = out.data as Float32Array;
      const columns = values.length / batch.length;
      if (!Number.isInteger(columns) || output.index >= columns) {
        throw new ManifestError(`output "${output.name}" has shape [${out.dims.join(', ')}]; index ${output.index} is not in it`, member.model.manifestPath);
      }
      for (let i = 0; i < batch.length; i++) {
        const v = values[i * columns + output.index]!;
        probs[start + i] = output.kind === 'logit' ? sigmoid(v) : v;
      }
    }
    return probs;
  };

  return {
    specs,
    provider,
    async predict(tensors) {
      const probabilities = new Map<string, Float64Array>();
      const msPerSlice = new Map<string, number>();
      for (const member of members) {
        const slices = tensors[member.specIndex]!;
        const t0 = performance.now();
        probabilities.set(member.model.manifest.name, await runMember(member, slices));
        msPerSlice.set(member.model.manifest.name, slices.length ? (performance.now() - t0) / slices.length : 0);
      }
      return { probabilities, msPerSlice };
    },
    async close() {
      await Promise.all(members.map((m) => m.session.release()));
    },
  };
}
