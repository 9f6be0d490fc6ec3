/**
 * From per-file results to series of ordered slices: inputs in a stable order, duplicates dropped (first file
 * wins), series in order of first appearance, slices along the slice normal, then InstanceNumber, then frame.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileResult, FrameResult, SkipRecord } from './preprocess.js';

/** Files of the given paths, folders walked recursively: a folder's files sorted by name, then its subfolders. */
export function collectInputs(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dirs: string[] = [];
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory() || (e.isSymbolicLink() && statSync(full).isDirectory())) dirs.push(full);
      else out.push(full);
    }
    for (const d of dirs) walk(d);
  };
  for (const p of paths) {
    if (statSync(p).isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

export interface OrderedSlice extends FrameResult {
  file: string;
  /** Index in the whole analysis (all series), in output order. */
  index: number;
}

export interface AssembledSeries {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  seriesDescription: string;
  /** Decoded to Unicode; for `analyze --json` and the database, never for logs. */
  patientName: string | null;
  slices: OrderedSlice[];
}

export interface Assembly {
  series: AssembledSeries[];
  skipped: SkipRecord[];
}

/** `results` must be in input order (collectInputs order). */
export function assemble(results: FileResult[]): Assembly {
  const skipped: SkipRecord[] = [];
  const seen = new Map<string, string>();
  const bySeries = new Map<string, { desc: string; patientName: string | null; study: string; slices: (FrameResult & { file: string })[] }>();
  for (const r of results) {
    if (r.status === 'skipped') {
      skipped.push(r.skip);
      continue;
    }
    skipped.push(...r.frameSkips);
    for (const fr of r.frames) {
      const key = `${fr.sopInstanceUid}\u0000${fr.frame}`;
      if (fr.sopInstanceUid && seen.has(key)) {
        skipped.push({
          file: r.file,
          frame: fr.numberOfFrames > 1 ? fr.frame : undefined,
          code: 'duplicate',
          kind: 'excluded',
          message: `duplicate SOPInstanceUID ${fr.sopInstanceUid} frame ${fr.frame} (first seen in ${seen.get(key)})`,
        });
        continue;
      }
      seen.set(key, r.file);
      let s = bySeries.get(fr.seriesInstanceUid);
      if (!s) {
        s = { desc: r.seriesDescription, patientName: r.patientName, study: fr.studyInstanceUid, slices: [] };
        bySeries.set(fr.seriesInstanceUid, s);
      }
      s.slices.push({ ...fr, file: r.file });
    }
  }
  let index = 0;
  const series: AssembledSeries[] = [];
  for (const [uid, s] of bySeries) {
    s.slices.sort(
      (a, b) =>
        a.z - b.z ||
        (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity) ||
        a.frame - b.frame ||
        (a.file < b.file ? -1 : a.file > b.file ? 1 : 0),
    );
    series.push({
      seriesInstanceUid: uid,
      studyInstanceUid: s.study,
      seriesDescription: s.desc,
      patientName: s.patientName,
      slices: s.slices.map((sl) => ({ ...sl, index: index++ })),
    });
  }
  return { series, skipped };
}
