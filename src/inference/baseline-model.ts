/**
 * The transparent baseline that lets the node run out of the box: no trained hemorrhage weights can be downloaded
 * here, so `build-models` writes a small ONNX graph whose every step can be read and checked by hand.
 *
 * Per slice, from the three window channels the method study feeds its CNNs:
 *   HU        = 200 * subdural - 20            (the subdural window 80/200 is linear on -20..180 HU)
 *   smooth    = AveragePool_s(HU)              (noise alone lifts single grey-matter pixels into the blood range)
 *   nearBone  = MaxPool_k(bone channel > BONE) (pixels within k/2 of bone: skull, partial volume, scalp)
 *   inside    = bone to the left, right, above and below (enclosed by the skull), not nearBone
 *   tissue    = 0 <= smooth <= 100, inside     (soft tissue within the skull, away from it)
 *   blood     = 50 <= smooth <= 90, inside     (the acute-blood range)
 *   fraction  = mean(blood) / max(mean(tissue), MIN_TISSUE)
 *   logit     = SLOPE * (fraction - CENTER)
 * The output `logits` [N,1] is a logit; the node applies the sigmoid. It is NOT the method study's CNN and says so.
 *
 * The graph is written with onnx-proto (ONNX's own protobuf schema) rather than a Python exporter, so installs
 * need neither Python nor downloads; the bytes are deterministic and their SHA-256 is pinned in the manifest.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { DEFAULT_WINDOWS, ModelManifestSchema, sha256File } from './manifest.js';

const { onnx } = onnxProto;

export const BASELINE_NAME = 'baseline-hu-blood-fraction';
export const BASELINE_MANIFEST = `${BASELINE_NAME}.model.json`;

/** The graph's constants, also written into the manifest's provenance so a reader sees what the model does. */
export const BASELINE_PARAMETERS = Object.freeze({
  tissueHu: [0, 100] as const,
  bloodHu: [50, 90] as const,
  boneHu: 300,
  /** Max-pool kernel (pixels of the 256x256 input, about 0.9 mm each for a 23 cm field) that marks "near bone". */
  nearBoneKernel: 9,
  /** Average-pool kernel applied to HU first: CT noise alone puts single grey-matter pixels above 50 HU. */
  smoothingKernel: 3,
  /** Floor of the tissue fraction in the denominator, so slices with little brain (vertex, skull base) stay calm. */
  minTissueFraction: 0.15,
  center: 0.15,
  slope: 40,
});

type Attr = { name: string; i?: number; ints?: number[]; type: number };
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

function scalar(name: string, value: number): OnnxTypes.ITensorProto {
  return { name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] };
}

function node(opType: string, inputs: string[], outputs: string[], attribute: Attr[] = []): OnnxTypes.INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute };
}

/** Channel value of `hu` in a window (the inverse of clip((HU - (c - w/2)) / w, 0, 1) inside the window). */
function channelOf(hu: number, window: { center: number; width: number }): number {
  return (hu - (window.center - window.width / 2)) / window.width;
}

export type BaselineParameters = typeof BASELINE_PARAMETERS;

export function baselineModelBytes(p: BaselineParameters = BASELINE_PARAMETERS): Uint8Array {
  const [, subdural, bone] = DEFAULT_WINDOWS as [unknown, { center: number; width: number }, { center: number; width: number }];
  const k = p.nearBoneKernel;
  const s = p.smoothingKernel;
  const initializer = [
    scalar('tissue_lo', channelOf(p.tissueHu[0], subdural)),
    scalar('tissue_hi', channelOf(p.tissueHu[1], subdural)),
    scalar('blood_lo', channelOf(p.bloodHu[0], subdural)),
    scalar('blood_hi', channelOf(p.bloodHu[1], subdural)),
    scalar('bone_min', channelOf(p.boneHu, bone)),
    scalar('one', 1),
    { name: 'axis_h', dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [2] },
    { name: 'axis_w', dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [3] },
    scalar('min_tissue', p.minTissueFraction),
    scalar('center', p.center),
    scalar('slope', p.slope),
  ];
  // Range tests are written as "not below lo and not above hi", so both ends are inclusive.
  const inRange = (x: string, lo: string, hi: string, out: string): OnnxTypes.INodeProto[] => [
    node('Less', [x, lo], [`${out}_below`]),
    node('Greater', [x, hi], [`${out}_above`]),
    node('Or', [`${out}_below`, `${out}_above`], [`${out}_outside`]),
    node('Not', [`${out}_outside`], [`${out}_bool`]),
    node('Cast', [`${out}_bool`], [out], [{ name: 'to', i: onnx.TensorProto.DataType.FLOAT, type: INT }]),
  ];
  const nodes: OnnxTypes.INodeProto[] = [
    node('Split', ['input'], ['brain', 'subdural', 'bone'], [{ name: 'axis', i: 1, type: INT }]),
    node('Greater', ['bone', 'bone_min'], ['bone_bool']),
    node('Cast', ['bone_bool'], ['bone_mask'], [{ name: 'to', i: onnx.TensorProto.DataType.FLOAT, type: INT }]),
    node('MaxPool', ['bone_mask'], ['near_bone'], [
      { name: 'kernel_shape', ints: [k, k], type: INTS },
      { name: 'pads', ints: [k >> 1, k >> 1, k >> 1, k >> 1], type: INTS },
      { name: 'strides', ints: [1, 1], type: INTS },
    ]),
    // Enclosed: bone somewhere to the left, right, above and below in the same row and column (scalp, face and
    // neck soft tissue mostly are not), computed with running sums so the graph stays a few standard ops.
    ...(['left', 'right', 'up', 'down'] as const).map((dir, i) =>
      node('CumSum', ['bone_mask', i < 2 ? 'axis_w' : 'axis_h'], [`bone_${dir}`], [{ name: 'reverse', i: i % 2, type: INT }]),
    ),
    node('Min', ['bone_left', 'bone_right', 'bone_up', 'bone_down'], ['bone_around']),
    node('Min', ['bone_around', 'one'], ['enclosed']),
    node('Sub', ['one', 'near_bone'], ['not_near_bone']),
    node('Mul', ['enclosed', 'not_near_bone'], ['away']),
    node('AveragePool', ['subdural'], ['smooth'], [
      { name: 'kernel_shape', ints: [s, s], type: INTS },
      { name: 'pads', ints: [s >> 1, s >> 1, s >> 1, s >> 1], type: INTS },
      { name: 'strides', ints: [1, 1], type: INTS },
      { name: 'count_include_pad', i: 0, type: INT },
    ]),
    ...inRange('smooth', 'tissue_lo', 'tissue_hi', 'tissue_all'),
    ...inRange('smooth', 'blood_lo', 'blood_hi', 'blood_all'),
    node('Mul', ['tissue_all', 'away'], ['tissue']),
    node('Mul', ['blood_all', 'away'], ['blood']),
    node('GlobalAveragePool', ['tissue'], ['tissue_mean']),
    node('GlobalAveragePool', ['blood'], ['blood_mean']),
    node('Max', ['tissue_mean', 'min_tissue'], ['tissue_safe']),
    node('Div', ['blood_mean', 'tissue_safe'], ['fraction4d']),
    node('Flatten', ['fraction4d'], ['fraction'], [{ name: 'axis', i: 1, type: INT }]),
    node('Sub', ['fraction', 'center'], ['centered']),
    node('Mul', ['centered', 'slope'], ['logits']),
  ];
  const floatType = (dims: (number | string)[]): OnnxTypes.ITypeProto => ({
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  });
  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'pmct-ich-node',
    producerVersion: '1',
    docString: 'Baseline, not a trained CNN: logit of the acute-blood-range fraction of soft tissue away from bone.',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: BASELINE_NAME,
      node: nodes,
      initializer,
      input: [{ name: 'input', type: floatType(['N', 3, 256, 256]) }],
      output: [{ name: 'logits', type: floatType(['N', 1]) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export interface BuiltModel {
  manifest: string;
  onnx: string;
  sha256: string;
}

/**
 * Writes the baseline ONNX file next to its committed manifest and checks that the bytes are the ones the
 * manifest pins (a mismatch means the builder changed without its manifest, and the node would refuse to load).
 */
export function buildModels(modelsDir: string): BuiltModel[] {
  mkdirSync(modelsDir, { recursive: true });
  const manifestPath = join(modelsDir, BASELINE_MANIFEST);
  const manifest = ModelManifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const onnxPath = join(modelsDir, manifest.file);
  const tmp = `${onnxPath}.tmp-${process.pid}`;
  writeFileSync(tmp, baselineModelBytes());
  renameSync(tmp, onnxPath);
  const pinned = JSON.stringify((manifest.provenance as { parameters?: unknown }).parameters);
  if (pinned !== JSON.stringify(BASELINE_PARAMETERS)) {
    throw new Error(`${manifestPath} describes parameters ${pinned}, the builder uses ${JSON.stringify(BASELINE_PARAMETERS)}`);
  }
  const sha256 = sha256File(onnxPath);
  if (sha256 !== manifest.sha256) {
    throw new Error(
      `${onnxPath} was built with SHA-256 ${sha256} but ${manifestPath} pins ${manifest.sha256}: ` +
        'the builder and the manifest disagree; update the manifest (sha256 and provenance) together with the builder',
    );
  }
  return [{ manifest: manifestPath, onnx: onnxPath, sha256 }];
}
