/**
 * Worker-thread entry for the imaging pool: decoding and preprocessing are CPU-bound (JPEG, J2K, resize), so they
 * run off the main thread and never block the SCP or the API. Tensors travel back as transferred buffers.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { initCodecs } from './pixels.js';
import { preprocessFile, renderBrainWindow, type PreprocessOptions } from './preprocess.js';

const ready = initCodecs();

export type ImagingTask =
  | { kind: 'preprocess'; path: string; options: PreprocessOptions }
  | { kind: 'render'; path: string; frame: number; options: Pick<PreprocessOptions, 'rsnaFix' | 'paddingMask'> };

/** Returns `value` with `buffers` transferred (not copied) to the main thread. */
function transferring<T>(value: T, buffers: ArrayBufferLike[]): unknown {
  return move({
    get [transferableSymbol]() {
      return buffers;
    },
    get [valueSymbol]() {
      return value;
    },
  } as never);
}

export default async function run(task: ImagingTask): Promise<unknown> {
  await ready;
  if (task.kind === 'render') {
    const r = renderBrainWindow(task.path, task.frame, task.options);
    return transferring(r, [r.pixels.buffer]);
  }
  const result = preprocessFile(task.path, task.options);
  if (result.status !== 'handled') return result;
  return transferring(result, result.frames.flatMap((f) => f.tensors.map((t) => t.buffer)));
}
