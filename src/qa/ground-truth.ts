/**
 * Autopsy ground truth per case (study). Append-only: each entry is a new row; the latest is the current finding
 * and the earlier ones are its history (migration 005 forbids UPDATE and DELETE).
 */
import { z } from 'zod';
import { nowIso, type Db } from '../db/database.js';

export const SUBTYPES = ['epidural', 'intraparenchymal', 'intraventricular', 'subarachnoid', 'subdural'] as const;

export const GroundTruthInputSchema = z
  .object({
    hemorrhage: z.boolean(),
    subtypes: z
      .array(z.enum(SUBTYPES))
      .refine((s) => new Set(s).size === s.length, { message: 'a subtype is listed twice' })
      .default([]),
    autopsyDate: z.iso
      .date()
      .refine((d) => d <= new Date().toISOString().slice(0, 10), { message: 'the autopsy date is in the future' })
      .optional(),
    note: z.string().max(4000).optional(),
  })
  .strict()
  .refine((g) => g.hemorrhage || g.subtypes.length === 0, { message: 'subtypes are given only when hemorrhage is true', path: ['subtypes'] });
export type GroundTruthInput = z.infer<typeof GroundTruthInputSchema>;

export interface GroundTruth {
  id: number;
  hemorrhage: boolean;
  subtypes: string[];
  autopsyDate: string | null;
  note: string | null;
  enteredBy: string;
  enteredAt: string;
}

type Row = { id: number; hemorrhage: number; subtypes: string; autopsy_date: string | null; note: string | null; entered_by: string; entered_at: string };

const fromRow = (r: Row): GroundTruth => ({
  id: r.id,
  hemorrhage: r.hemorrhage === 1,
  subtypes: JSON.parse(r.subtypes) as string[],
  autopsyDate: r.autopsy_date,
  note: r.note,
  enteredBy: r.entered_by,
  enteredAt: r.entered_at,
});

export function recordGroundTruth(db: Db, studyId: number, g: GroundTruthInput, enteredBy: string): GroundTruth {
  const at = nowIso();
  const id = db
    .prepare('INSERT INTO ground_truth (study_id, hemorrhage, subtypes, autopsy_date, note, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(studyId, g.hemorrhage ? 1 : 0, JSON.stringify(g.subtypes), g.autopsyDate ?? null, g.note ?? null, enteredBy, at).lastInsertRowid;
  return { id: Number(id), hemorrhage: g.hemorrhage, subtypes: g.subtypes, autopsyDate: g.autopsyDate ?? null, note: g.note ?? null, enteredBy, enteredAt: at };
}

/** Every finding entered for a study, newest first (the first is the current one). */
export function groundTruthHistory(db: Db, studyId: number): GroundTruth[] {
  return (db.prepare('SELECT * FROM ground_truth WHERE study_id = ? ORDER BY id DESC').all(studyId) as Row[]).map(fromRow);
}
