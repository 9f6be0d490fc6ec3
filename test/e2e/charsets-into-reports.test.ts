/**
 * Patient names in every character set we hold reach the reports byte-exact. For each file of ../shared/data/charsets
 * (none is CT), a re-UIDed copy of a CQ500 slice carries its PatientName bytes and SpecificCharacterSet; the copies
 * are sent to the node; the SR and the SC of each must carry the same bytes and character set, and the database the
 * same Unicode as pydicom decodes from the original file.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, storescu } from '../helpers/node.js';
import { Tag } from '../../src/dicom/constants.js';
import { readDicom } from '../../src/dicom/dataset.js';
import type { RunningNode } from '../../src/service.js';
import { CQ500, DATA, REPO, tempDir, waitFor } from '../helpers/peers.js';
import { hasPythonStack, py } from '../helpers/python.js';

interface Copy {
  file: string;
  out: string | null;
  name_hex?: string;
  charset?: string;
  unicode?: string;
}

const CHARSETS = join(DATA, 'charsets');

describe.skipIf(!hasPythonStack)('patient names in every character set, into the SR and SC', () => {
  let node: RunningNode;
  let dir: string;
  let copies: Copy[];

  beforeAll(async () => {
    dir = tempDir('charsets');
    const files = readdirSync(CHARSETS).sort().map((f) => join(CHARSETS, f));
    copies = py([join(REPO, 'test/helpers/charset_copies.py'), join(CQ500, 'CT000120.dcm'), dir, ...files])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Copy);
    node = await startTestNode(join(dir, 'node'));
    const sent = await storescu(node, ['-xs', ...copies.flatMap((c) => (c.out ? [c.out] : []))]);
    expect(sent.status, sent.stderr).toBe(0);
    await waitFor(() => node.idle(), 180_000, 'the node to report on every copy');
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('made a copy for every file with a top-level PatientName', () => {
    expect(copies).toHaveLength(17);
    // The two chrSQEncoding files carry names only inside sequences.
    expect(copies.filter((c) => !c.out).map((c) => c.file.split('/').pop())).toEqual(['chrSQEncoding.dcm', 'chrSQEncoding1.dcm']);
  });

  it('copies each name into the SR, the SC and the KOS byte-exact, with the same SpecificCharacterSet', () => {
    for (const c of copies.filter((x) => x.out)) {
      const studyUid = readDicom(readFileSync(c.out!)).dataset.string(Tag.StudyInstanceUID)!;
      const outputs = node.db
        .prepare(
          `SELECT o.kind, o.path FROM outputs o JOIN results r ON r.id = o.result_id JOIN series s ON s.id = r.series_id
           JOIN studies st ON st.id = s.study_id WHERE st.study_uid = ? ORDER BY o.kind DESC`,
        )
        .all(studyUid) as { kind: string; path: string }[];
      expect(outputs.map((o) => o.kind), c.file).toEqual(['sr', 'sc', 'kos']);
      for (const o of outputs) {
        const ds = readDicom(readFileSync(join(dir, 'node', 'outputs', o.path))).dataset;
        expect(Buffer.from(ds.bytes(Tag.PatientName)!).toString('hex'), `${c.file} ${o.kind}`).toBe(c.name_hex);
        expect(ds.strings(Tag.SpecificCharacterSet).join('\\'), `${c.file} ${o.kind}`).toBe(c.charset);
      }
    }
  });

  it('decodes each name to the same Unicode as pydicom, in the database', () => {
    for (const c of copies.filter((x) => x.out)) {
      const studyUid = readDicom(readFileSync(c.out!)).dataset.string(Tag.StudyInstanceUID)!;
      expect(node.db.prepare('SELECT patient_name FROM studies WHERE study_uid = ?').pluck().get(studyUid), c.file).toBe(c.unicode);
    }
  });

  it('shows the same Unicode in analyze --json', () => {
    const withName = copies.filter((x) => x.out);
    const r = spawnSync(process.execPath, [join(REPO, 'dist/src/cli.js'), 'analyze', ...withName.map((c) => c.out!), '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { series: { patientName: string | null; slices: { file: string }[] }[] };
    for (const c of withName) {
      const s = out.series.find((x) => x.slices.some((sl) => sl.file === c.out));
      expect(s?.patientName, c.file).toBe(c.unicode);
    }
  });
});
