/**
 * Parameter count read from an ONNX file itself (onnx-proto decodes the protobuf): the number of elements of its
 * floating-point initializers. That is what the file carries, so it also counts what an exporter kept as tensors
 * besides trainable weights (e.g. batch-norm running statistics that could not be folded); integer initializers
 * (shapes, axes) are not parameters and are left out.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT_TYPES = new Set<number>([
  onnx.TensorProto.DataType.FLOAT,
  onnx.TensorProto.DataType.FLOAT16,
  onnx.TensorProto.DataType.DOUBLE,
  onnx.TensorProto.DataType.BFLOAT16,
]);

export function onnxParameterCount(path: string): number {
  const model = onnx.ModelProto.decode(readFileSync(path));
  let count = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (!FLOAT_TYPES.has(t.dataType ?? 0)) continue;
    count += (t.dims ?? []).reduce<number>((n, d) => n * Number(d), 1);
  }
  return count;
}
