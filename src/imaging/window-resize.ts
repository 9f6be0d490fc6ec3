/**
 * The maths of the model input (design.md, "Preprocessing contract"): CT windows and the bilinear resize.
 * Pure; float64 throughout, so results equal a float64 reference before the final cast to float32.
 */

/** One window channel: clip((HU - (c - w/2)) / w, 0, 1), with masked pixels forced to 0. */
export function windowChannel(hu: Float64Array, center: number, width: number, mask?: Uint8Array): Float64Array {
  const out = new Float64Array(hu.length);
  const low = center - width / 2;
  for (let i = 0; i < hu.length; i++) {
    const v = (hu[i]! - low) / width;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  if (mask) for (let i = 0; i < mask.length; i++) if (mask[i]) out[i] = 0;
  return out;
}

export interface LinearCoefficients {
  i0: Int32Array;
  i1: Int32Array;
  lambda: Float64Array;
}

/**
 * Source indices and weights for half-pixel-centre bilinear interpolation without antialiasing (as OpenCV
 * INTER_LINEAR and PyTorch align_corners=False): src = (dst + 0.5) * in/out - 0.5, clamped at 0.
 */
export function linearCoefficients(nIn: number, nOut: number): LinearCoefficients {
  const scale = nIn / nOut;
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const lambda = new Float64Array(nOut);
  for (let d = 0; d < nOut; d++) {
    const src = Math.max((d + 0.5) * scale - 0.5, 0);
    const f = Math.min(Math.floor(src), nIn - 1);
    i0[d] = f;
    i1[d] = Math.min(f + 1, nIn - 1);
    lambda[d] = Math.min(Math.max(src - f, 0), 1);
  }
  return { i0, i1, lambda };
}

const coefficientCache = new Map<string, LinearCoefficients>();
function cachedCoefficients(nIn: number, nOut: number): LinearCoefficients {
  const key = `${nIn}>${nOut}`;
  let c = coefficientCache.get(key);
  if (!c) {
    c = linearCoefficients(nIn, nOut);
    coefficientCache.set(key, c);
  }
  return c;
}

/**
 * Windows and resizes in one pass: for each window k, channel k of `out` ([K, outH, outW], float32) is the
 * bilinear resize (both axes separately, aspect ratio not kept) of clip((HU - (c - w/2)) / w, 0, 1), masked pixels
 * 0. Fused so no full-resolution channel is ever allocated; the float64 arithmetic is the same, term by term, as
 * windowing the whole image first and then resizing it.
 */
export function windowResize(
  hu: Float64Array,
  mask: Uint8Array | undefined,
  h: number,
  w: number,
  windows: readonly { center: number; width: number }[],
  outH: number,
  outW: number,
  out: Float32Array = new Float32Array(windows.length * outH * outW),
): Float32Array {
  const y = cachedCoefficients(h, outH);
  const x = cachedCoefficients(w, outW);
  const plane = outH * outW;
  const lows = windows.map((win) => win.center - win.width / 2);
  const widths = windows.map((win) => win.width);
  const px = [0, 0, 0, 0];
  const value = (i: number, low: number, width: number) => {
    if (mask && mask[i]) return 0;
    const v = (hu[i]! - low) / width;
    return v < 0 ? 0 : v > 1 ? 1 : v;
  };
  for (let r = 0; r < outH; r++) {
    const top = y.i0[r]! * w;
    const bot = y.i1[r]! * w;
    const ly = y.lambda[r]!;
    for (let c = 0; c < outW; c++) {
      const x0 = x.i0[c]!;
      const x1 = x.i1[c]!;
      const lx = x.lambda[c]!;
      px[0] = top + x0;
      px[1] = top + x1;
      px[2] = bot + x0;
      px[3] = bot + x1;
      for (let k = 0; k < lows.length; k++) {
        const low = lows[k]!;
        const width = widths[k]!;
        const t = (1 - lx) * value(px[0], low, width) + lx * value(px[1], low, width);
        const b = (1 - lx) * value(px[2], low, width) + lx * value(px[3], low, width);
        out[k * plane + r * outW + c] = (1 - ly) * t + ly * b;
      }
    }
  }
  return out;
}

/** 8-bit display of HU in a window (brain 40/80 for key slices); masked pixels black. */
export function windowToGrey(hu: Float64Array, center: number, width: number, mask?: Uint8Array): Uint8Array {
  const ch = windowChannel(hu, center, width, mask);
  const out = new Uint8Array(ch.length);
  for (let i = 0; i < ch.length; i++) out[i] = Math.round(ch[i]! * 255);
  return out;
}
