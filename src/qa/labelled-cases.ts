/**
 * Labelled cases for `benchmark` and `calibrate`: either a CSV/TSV with columns `case,label[,path]` (path relative to
 * the file, default `<case>` next to it), or a folder holding `positive/` and `negative/`, each entry of which (a
 * file or a folder) is one case. Reader scores come as a CSV `case,score`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';

export interface LabelledCase {
  id: string;
  label: boolean;
  path: string;
}

const LABELS: Record<string, boolean> = { '1': true, yes: true, true: true, positive: true, present: true, '0': false, no: false, false: false, negative: false, absent: false };

function readTable(file: string): Record<string, string>[] {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  const text = readFileSync(file, 'utf8');
  if (text.includes('\0')) throw new Error(`${file} is not a CSV/TSV text file (it holds binary data)`);
  return parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), delimiter: file.endsWith('.tsv') ? '\t' : ',', skip_empty_lines: true, trim: true, comment: '#' }) as Record<string, string>[];
}

export function loadLabelledCases(source: string): LabelledCase[] {
  const abs = resolve(source);
  if (!existsSync(abs)) throw new Error(`labelled cases: ${abs} does not exist`);
  let cases: LabelledCase[];
  if (statSync(abs).isDirectory()) {
    const groups = (['positive', 'negative'] as const).filter((g) => existsSync(join(abs, g)));
    if (groups.length === 0) throw new Error(`labelled cases: ${abs} has neither a positive/ nor a negative/ folder (or give a CSV with case,label[,path])`);
    cases = groups.flatMap((g) => readdirSync(join(abs, g)).sort().map((e) => ({ id: e, label: g === 'positive', path: join(abs, g, e) })));
  } else {
    const rows = readTable(abs);
    cases = rows.map((r, i) => {
      const line = i + 2;
      if (!r.case) throw new Error(`${abs} line ${line}: no value in column "case" (columns: case,label[,path])`);
      const label = LABELS[(r.label ?? '').toLowerCase()];
      if (label === undefined) throw new Error(`${abs} line ${line}: label "${r.label ?? ''}" is not one of 1/0, yes/no, positive/negative, present/absent`);
      const path = resolve(dirname(abs), r.path || r.case);
      if (!existsSync(path)) throw new Error(`${abs} line ${line}: ${path} does not exist`);
      return { id: r.case, label, path };
    });
  }
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`labelled cases: case "${c.id}" is listed twice`);
    seen.add(c.id);
  }
  if (cases.length === 0) throw new Error(`labelled cases: none found in ${abs}`);
  return cases;
}

/** Reader confidence per case (e.g. 1-5), from a CSV `case,score`. */
export function loadReaderScores(file: string): Map<string, number> {
  const abs = resolve(file);
  const out = new Map<string, number>();
  readTable(abs).forEach((r, i) => {
    const score = Number(r.score);
    if (!r.case || r.score === undefined || r.score === '' || !Number.isFinite(score)) throw new Error(`${abs} line ${i + 2}: needs a case and a numeric score (columns: case,score)`);
    out.set(r.case, score);
  });
  return out;
}

