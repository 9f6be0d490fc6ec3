/**
 * The dashboard shows key slices as PNG, encoded (pngjs) from the node's own Secondary Capture objects: 8-bit
 * MONOCHROME2, uncompressed, so the pixel data can be taken as it is.
 */
import { readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import { PNG } from 'pngjs';

export function secondaryCaptureToPng(path: string): Buffer {
  const ds = dicomParser.parseDicom(new Uint8Array(readFileSync(path)));
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const pixels = ds.elements.x7fe00010;
  if (ds.uint16('x00280100') !== 8 || ds.uint16('x00280002') !== 1 || !pixels || pixels.length < rows * columns) {
    throw new Error(`${path} is not an 8-bit single-channel image the node wrote`);
  }
  const png = new PNG({ width: columns, height: rows, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + pixels.dataOffset, rows * columns);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}
