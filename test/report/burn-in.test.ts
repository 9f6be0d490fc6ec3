import { describe, expect, it } from 'vitest';
import { fonts, renderPixels } from 'js-pixel-fonts';
import { burnInText } from '../../src/report/burn-in.js';
import { ReportInputError } from '../../src/report/index.js';

const grey = (rows: number, columns: number, value = 100) => new Uint8Array(rows * columns).fill(value);

describe('burnInText', () => {
  it('draws the first line at scale 2 on a 512-column image, white on a black box, leaving the rest alone', () => {
    const rows = 512;
    const columns = 512;
    const out = burnInText(grey(rows, columns), rows, columns, ['NOT FOR DIAGNOSTIC USE']);
    const glyphs = renderPixels('NOT FOR DIAGNOSTIC USE', fonts.sevenPlus);
    const scale = 2;
    const margin = 4;
    // Every font pixel becomes a 2x2 white block at margin + 2 * position; every other box pixel is black.
    for (let y = 0; y < glyphs.length * scale; y++) {
      for (let x = 0; x < glyphs[0]!.length * scale; x++) {
        const on = glyphs[Math.floor(y / scale)]![Math.floor(x / scale)] === 1;
        expect(out[(margin + y) * columns + margin + x]).toBe(on ? 255 : 0);
      }
    }
    const boxWidth = glyphs[0]!.length * scale + 2 * margin;
    const boxHeight = glyphs.length * scale + 2 * margin;
    expect(out[(boxHeight - 1) * columns + boxWidth - 1]).toBe(0);
    expect(out[boxHeight * columns]).toBe(100);
    expect(out[boxWidth]).toBe(100);
    expect(out[rows * columns - 1]).toBe(100);
  });

  it('does not modify its input', () => {
    const input = grey(64, 256);
    burnInText(input, 64, 256, ['NOT FOR DIAGNOSTIC USE']);
    expect(input.every((v) => v === 100)).toBe(true);
  });

  it('shortens later lines that are too wide and drops lines that do not fit below', () => {
    const columns = 256;
    const long = 'x'.repeat(200);
    const out = burnInText(grey(36, columns), 36, columns, ['NOT FOR DIAGNOSTIC USE', long, 'third', 'fourth', 'fifth']);
    // The long line is cut to the longest prefix that fits between the 2-pixel margins (scale 1).
    let n = long.length;
    while (renderPixels(long.slice(0, n), fonts.sevenPlus)[0]!.length > columns - 4) n--;
    const boxWidth = renderPixels(long.slice(0, n), fonts.sevenPlus)[0]!.length + 4;
    expect(n).toBeGreaterThan(30);
    expect(out[boxWidth - 1]).toBe(0);
    expect(out[boxWidth]).toBe(100);
    // 36 rows hold three 7-pixel lines (2 + 7 + 2 + 7 + 2 + 7 + 2 = 29 rows with margins and gaps), not a fourth.
    expect(out.subarray(28 * columns, 29 * columns).some((v) => v === 0)).toBe(true);
    expect(out.subarray(29 * columns).every((v) => v === 100)).toBe(true);
  });

  it('refuses an image too small to show the warning whole', () => {
    expect(() => burnInText(grey(64, 64), 64, 64, ['NOT FOR DIAGNOSTIC USE'])).toThrow(ReportInputError);
    expect(() => burnInText(grey(8, 256), 8, 256, ['NOT FOR DIAGNOSTIC USE'])).toThrow(ReportInputError);
  });
});
