/**
 * Routing by ImageType on real CQ500 slices re-stamped with dcmodify: acquired axial slices (original or derived
 * reconstructions) are analysed; reformats and projections (MPR, MIP/MinIP slabs) and localizers are skipped.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCodecs } from '../../src/imaging/pixels.js';
import { preprocessFile } from '../../src/imaging/preprocess.js';
import { DEFAULT_WINDOWS } from '../../src/inference/manifest.js';
import { CQ500, run, tempDir } from '../helpers/peers.js';

const CASES: [string, string][] = [
  ['ORIGINAL\\PRIMARY\\AXIAL', 'analysed'],
  ['DERIVED\\PRIMARY\\AXIAL\\IR', 'analysed'],
  ['DERIVED\\SECONDARY\\REFORMATTED\\AVERAGE', 'reformat'],
  ['DERIVED\\SECONDARY\\AXIAL\\MIP', 'reformat'],
  ['DERIVED\\SECONDARY\\MPR', 'reformat'],
  ['ORIGINAL\\PRIMARY\\LOCALIZER', 'localizer'],
];

describe('routing by ImageType', () => {
  let dir: string;
  beforeAll(async () => {
    await initCodecs();
    dir = tempDir('image-type');
    for (const [i, [type]] of CASES.entries()) {
      const f = join(dir, `${i}.dcm`);
      copyFileSync(join(CQ500, 'CT000100.dcm'), f);
      const r = await run('dcmodify', ['-nb', '-i', `(0008,0008)=${type}`, f]);
      expect(r.status, r.stderr).toBe(0);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(CASES.map(([type, outcome], i) => [type, outcome, i] as const))('%s -> %s', (_type, outcome, i) => {
    const spec = { name: 'input', size: [256, 256] as [number, number], windows: [...DEFAULT_WINDOWS], normalization: null };
    const r = preprocessFile(join(dir, `${i}.dcm`), { specs: [spec], rsnaFix: false, axialMaxDeg: 45, paddingMask: true });
    expect(r.status === 'handled' ? 'analysed' : r.skip.code).toBe(outcome);
  });
});
