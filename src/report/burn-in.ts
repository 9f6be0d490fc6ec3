/**
 * Text burned into the secondary-capture pixels, drawn with js-pixel-fonts' "Seven Plus" bitmap font (printable
 * ASCII, 7 pixels high) scaled by whole pixels: white on a black box, top left, so it reads on any slice.
 */
import { fonts, renderPixels } from 'js-pixel-fonts';
import { ReportInputError } from './common.js';

const FONT = fonts.sevenPlus;

/** Characters the font lacks become '?' (the library would log a warning and draw its fallback glyph). */
function printable(text: string): string {
  return [...text].map((c) => (FONT.glyphs[c] ? c : '?')).join('');
}

/** The 0/1 bitmap of one line, shortened from the end until it fits `maxWidth` at `scale`. */
function fitLine(text: string, scale: number, maxWidth: number): number[][] | undefined {
  for (let n = text.length; n > 0; n--) {
    const bitmap = renderPixels(printable(text.slice(0, n)), FONT);
    if ((bitmap[0]?.length ?? 0) * scale <= maxWidth) return bitmap;
  }
  return undefined;
}

/**
 * A copy of `pixels` (rows x columns, 8-bit) with `lines` drawn top left. Scale 1 per 256 columns keeps the text
 * the same size relative to the image. The first line (the "not for diagnostic use" warning) must fit whole, or
 * nothing is drawn and the call throws; later lines are shortened or dropped when the image is too small.
 */
export function burnInText(pixels: Uint8Array, rows: number, columns: number, lines: readonly string[]): Uint8Array {
  const out = Uint8Array.from(pixels);
  const scale = Math.max(1, Math.floor(columns / 256));
  const margin = 2 * scale;
  const gap = 2 * scale;
  const maxWidth = columns - 2 * margin;
  const bitmaps: number[][][] = [];
  let height = 0;
  for (const [i, line] of lines.entries()) {
    const bitmap = fitLine(line, scale, maxWidth);
    const full = bitmap !== undefined && bitmap[0]!.length === renderPixels(printable(line), FONT)[0]!.length;
    const h = (bitmap?.length ?? 0) * scale + (i > 0 ? gap : 0);
    if (i === 0 && (!full || 2 * margin + h > rows)) {
      throw new ReportInputError(`a ${columns}x${rows} image cannot show "${line}" whole`);
    }
    if (!bitmap || 2 * margin + height + h > rows) break;
    bitmaps.push(bitmap);
    height += h;
  }
  const width = Math.max(...bitmaps.map((b) => b[0]!.length * scale));
  // Black box one margin wider than the text on each side.
  for (let y = 0; y < Math.min(rows, height + 2 * margin); y++) {
    out.fill(0, y * columns, y * columns + Math.min(columns, width + 2 * margin));
  }
  let top = margin;
  for (const bitmap of bitmaps) {
    bitmap.forEach((row, by) => {
      row.forEach((on, bx) => {
        if (!on) return;
        for (let dy = 0; dy < scale; dy++) {
          const y = top + by * scale + dy;
          out.fill(255, y * columns + margin + bx * scale, y * columns + margin + (bx + 1) * scale);
        }
      });
    });
    top += bitmap.length * scale + gap;
  }
  return out;
}
