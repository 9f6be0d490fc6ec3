/**
 * Model and ensemble manifests (JSON files under `models/`).
 *
 * A model manifest says everything the node needs to feed and read one ONNX classifier: the file and its
 * SHA-256 (checked at load), the input (name, size, CT windows, optional normalisation), the output (name,
 * logit or probability, which index is "any hemorrhage"), and provenance. An ensemble manifest lists member
 * model manifests, how slice probabilities combine, and the decision threshold with how it was chosen.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

export const WindowSchema = z.object({
  name: z.string().optional(),
  center: z.number(),
  width: z.number().positive(),
});
export type CtWindow = z.infer<typeof WindowSchema>;

/** The method study's windows (brain, subdural, bone), the default when a manifest gives none. */
export const DEFAULT_WINDOWS: readonly CtWindow[] = Object.freeze([
  { name: 'brain', center: 40, width: 80 },
  { name: 'subdural', center: 80, width: 200 },
  { name: 'bone', center: 600, width: 2800 },
]);

export const InputSpecSchema = z.object({
  name: z.string().default('input'),
  /** [height, width] of the model input. */
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([256, 256]),
  windows: z.array(WindowSchema).min(1).default([...DEFAULT_WINDOWS]),
  /** Optional per-channel normalisation applied after windowing: (x - mean) / std. */
  normalization: z
    .object({ mean: z.array(z.number()), std: z.array(z.number().positive()) })
    .nullable()
    .default(null),
});
export type InputSpec = z.infer<typeof InputSpecSchema>;

export const ThresholdSchema = z.object({
  value: z.number().min(0).max(1),
  /** How the value was chosen: `youden` on labelled cases, or `fixed` by the author. */
  method: z.enum(['youden', 'fixed']),
  note: z.string().optional(),
  provenance: z.record(z.string(), z.unknown()).optional(),
});
export type Threshold = z.infer<typeof ThresholdSchema>;

export const ModelManifestSchema = z.object({
  kind: z.literal('model'),
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().optional(),
  /** ONNX file, relative to the manifest. */
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: InputSpecSchema,
  output: z.object({
    name: z.string().default('logits'),
    kind: z.enum(['logit', 'probability']),
    /** Which output column is "any hemorrhage". */
    index: z.number().int().nonnegative().default(0),
  }),
  parameters: z.number().int().nonnegative().optional(),
  /** True for the transparent HU baseline: reports say plainly it is not a trained CNN. */
  baseline: z.boolean().default(false),
  threshold: ThresholdSchema.optional(),
  provenance: z.record(z.string(), z.unknown()).default({}),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

export const EnsembleManifestSchema = z.object({
  kind: z.literal('ensemble'),
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().optional(),
  members: z.array(z.object({ manifest: z.string().min(1), weight: z.number().positive().default(1) })).min(1),
  /** How member slice probabilities combine into the ensemble's slice probability. */
  combine: z.enum(['mean', 'weighted-mean', 'max']).default('mean'),
  threshold: ThresholdSchema,
});
export type EnsembleManifest = z.infer<typeof EnsembleManifestSchema>;

/** A model manifest resolved on disk: absolute paths, and the manifest's own digest. */
export interface LoadedModel {
  manifest: ModelManifest;
  manifestPath: string;
  onnxPath: string;
}

/** What inference runs: members with weights, the combination rule and the threshold. */
export interface LoadedEnsemble {
  name: string;
  version: string;
  combine: EnsembleManifest['combine'];
  threshold: Threshold;
  members: { model: LoadedModel; weight: number }[];
  /** SHA-256 over the member manifests' identities, threshold and rule: part of every output UID seed. */
  digest: string;
  /** Paths of the manifests this was built from (for logs and provenance). */
  sources: string[];
}

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ManifestError';
  }
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ManifestError(`cannot read manifest (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`not valid JSON: ${(err as Error).message}`, path);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ManifestError(`invalid manifest: ${issues}`, path);
  }
  return r.data;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Loads a model manifest. The ONNX file's SHA-256 is checked unless `verify` is false (the check reads
 * the whole file, so callers that load the same model repeatedly cache the result).
 */
export function loadModelManifest(path: string, verify = true): LoadedModel {
  const manifestPath = resolve(path);
  const manifest = parseWith(ModelManifestSchema, readJson(manifestPath), manifestPath);
  const onnxPath = resolve(dirname(manifestPath), manifest.file);
  if (verify) {
    let actual: string;
    try {
      actual = sha256File(onnxPath);
    } catch (err) {
      throw new ManifestError(
        `model file ${onnxPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
          `for the baseline model run \`pmct-ich-node build-models\``,
        manifestPath,
      );
    }
    if (actual !== manifest.sha256) {
      throw new ManifestError(
        `SHA-256 of ${onnxPath} is ${actual}, the manifest expects ${manifest.sha256}: refusing to load a model ` +
          `that is not the one the manifest describes`,
        manifestPath,
      );
    }
  }
  return { manifest, manifestPath, onnxPath };
}

function ensembleDigest(e: Omit<LoadedEnsemble, 'digest' | 'sources'>): string {
  const identity = {
    name: e.name,
    version: e.version,
    combine: e.combine,
    threshold: e.threshold.value,
    members: e.members.map((m) => ({
      name: m.model.manifest.name,
      version: m.model.manifest.version,
      sha256: m.model.manifest.sha256,
      input: m.model.manifest.input,
      output: m.model.manifest.output,
      weight: m.weight,
    })),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

const DEFAULT_THRESHOLD: Threshold = {
  value: 0.5,
  method: 'fixed',
  note: 'no threshold in the manifests given; 0.5 used',
};

/**
 * Loads what inference should run from one or more manifest paths:
 * - one ensemble manifest: that ensemble;
 * - one model manifest: a one-member ensemble with the model's own threshold (or 0.5);
 * - several manifests (models or ensembles): their models pooled, equal weights, mean, threshold 0.5
 *   unless exactly one of them carries a threshold.
 */
export function loadEnsemble(paths: string[], verify = true): LoadedEnsemble {
  if (paths.length === 0) throw new Error('no model or ensemble manifest given');
  const docs = paths.map((p) => {
    const abs = resolve(p);
    const raw = readJson(abs) as { kind?: unknown };
    if (raw && typeof raw === 'object' && raw.kind === 'ensemble') {
      return { abs, ensemble: parseWith(EnsembleManifestSchema, raw, abs) };
    }
    return { abs, model: loadModelManifest(abs, verify) };
  });

  const membersOf = (abs: string, e: EnsembleManifest) =>
    e.members.map((m) => ({ model: loadModelManifest(resolve(dirname(abs), m.manifest), verify), weight: m.weight }));

  let base: Omit<LoadedEnsemble, 'digest' | 'sources'>;
  const only = docs[0]!;
  if (docs.length === 1 && only.ensemble) {
    base = {
      name: only.ensemble.name,
      version: only.ensemble.version,
      combine: only.ensemble.combine,
      threshold: only.ensemble.threshold,
      members: membersOf(only.abs, only.ensemble),
    };
  } else if (docs.length === 1 && only.model) {
    base = {
      name: only.model.manifest.name,
      version: only.model.manifest.version,
      combine: 'mean',
      threshold: only.model.manifest.threshold ?? DEFAULT_THRESHOLD,
      members: [{ model: only.model, weight: 1 }],
    };
  } else {
    const members = docs.flatMap((d) => (d.ensemble ? membersOf(d.abs, d.ensemble) : [{ model: d.model!, weight: 1 }]));
    const thresholds = docs
      .map((d) => (d.ensemble ? d.ensemble.threshold : d.model!.manifest.threshold))
      .filter((t): t is Threshold => t !== undefined);
    const names = members.map((m) => m.model.manifest.name);
    base = {
      name: `adhoc(${names.join('+')})`,
      version: members.map((m) => m.model.manifest.version).join('+'),
      combine: 'mean',
      threshold: thresholds.length === 1 ? thresholds[0]! : DEFAULT_THRESHOLD,
      members: members.map((m) => ({ model: m.model, weight: 1 })),
    };
  }
  const seen = new Set<string>();
  for (const m of base.members) {
    const key = `${m.model.manifest.name}@${m.model.manifest.version}`;
    if (seen.has(key)) throw new ManifestError(`model ${key} is listed twice`, paths.join(', '));
    seen.add(key);
  }
  return { ...base, digest: ensembleDigest(base), sources: docs.map((d) => d.abs) };
}
