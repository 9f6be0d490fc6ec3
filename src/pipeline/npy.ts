/**
 * NumPy .npy (format 1.0) writer for float32 C-order arrays, streamed so a whole study's tensors never need one
 * contiguous buffer. Written here because the format is a fixed 10-byte prefix plus a Python-dict header, and the
 * npm packages for it only read.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export function npyHeader(shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + length (2) + dict + '\n' must be a multiple of 64.
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

/** Writes `chunks` (each a float32 block in C order) as one array of `shape`. */
export function writeNpyFloat32(path: string, shape: readonly number[], chunks: Iterable<Float32Array>): void {
  const expected = shape.reduce((a, b) => a * b, 1);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, npyHeader(shape));
    let written = 0;
    for (const c of chunks) {
      // npy float32 is little-endian ('<f4'), as typed arrays are on every platform Node supports here.
      writeSync(fd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
      written += c.length;
    }
    if (written !== expected) throw new Error(`npy: wrote ${written} values, shape ${shape.join('x')} needs ${expected}`);
  } finally {
    closeSync(fd);
  }
}
