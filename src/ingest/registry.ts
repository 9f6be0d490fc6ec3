/**
 * Makes a received object permanent: reads its header, moves the fsynced temporary file into the spool
 * (spool/<study>/<series>/<sop>.dcm), and records study, series and instance in one transaction. The same SOP
 * Instance UID again is harmless: identical bytes are a no-op, different bytes replace the file (logged). A new or
 * changed instance in a series that was already complete re-opens it, so the case is analysed again.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tag } from '../dicom/constants.js';
import { patientNameText, readDicom } from '../dicom/dataset.js';
import { nowIso, recordEvent, type Db } from '../db/database.js';
import type { Logger } from '../log/logger.js';
import { StoreStatus, type ReceivedObject } from '../receive/scp.js';

/** Keeps a UID usable as a path component even when a sender's "UID" is not one. */
function pathPart(uid: string): string {
  const safe = uid.replace(/[^0-9A-Za-z._-]/g, '_').slice(0, 128);
  return safe === '' || safe === '.' || safe === '..' ? '_' : safe;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface HeaderInfo {
  studyUid: string;
  seriesUid: string;
  modality: string | null;
  seriesDescription: string | null;
  patientName: string | null;
  patientId: string | null;
  accessionNumber: string | null;
  studyDate: string | null;
  specificCharacterSet: string | null;
  imagesInAcquisition: number | null;
}

export class IngestRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'IngestRefusal';
  }
}

function readHeader(path: string): HeaderInfo {
  let file;
  try {
    file = readDicom(readFileSync(path));
  } catch (e) {
    throw new IngestRefusal(StoreStatus.CannotUnderstand, `data set cannot be parsed: ${(e as Error).message}`);
  }
  const ds = file.dataset;
  const studyUid = ds.string(Tag.StudyInstanceUID);
  const seriesUid = ds.string(Tag.SeriesInstanceUID);
  if (!studyUid || !seriesUid) {
    throw new IngestRefusal(StoreStatus.CannotUnderstand, 'data set lacks StudyInstanceUID or SeriesInstanceUID');
  }
  const opt = (tag: number) => ds.string(tag) ?? null;
  return {
    studyUid,
    seriesUid,
    modality: opt(Tag.Modality),
    seriesDescription: opt(Tag.SeriesDescription),
    patientName: patientNameText(ds),
    patientId: opt(Tag.PatientID),
    accessionNumber: opt(Tag.AccessionNumber),
    studyDate: opt(Tag.StudyDate),
    specificCharacterSet: ds.strings(Tag.SpecificCharacterSet).join('\\') || null,
    imagesInAcquisition: positiveInt(ds.int(Tag.ImagesInAcquisition)),
  };
}

function positiveInt(v: number | undefined): number | null {
  return v !== undefined && v > 0 ? v : null;
}

export interface CommitResult {
  status: number;
  outcome: 'stored' | 'duplicate' | 'replaced';
  instanceId: number;
  seriesId: number;
}

/** The SCP's commit step. Throws IngestRefusal (a DIMSE failure status) for data sets the node cannot register. */
export function commitReceived(db: Db, spoolDir: string, obj: ReceivedObject, logger: Logger): CommitResult {
  let info: HeaderInfo;
  try {
    info = readHeader(obj.tmpPath);
  } catch (e) {
    unlinkSync(obj.tmpPath);
    throw e;
  }
  const rel = join(pathPart(info.studyUid), pathPart(info.seriesUid), `${pathPart(obj.sopInstanceUid)}.dcm`);
  const existing = db
    .prepare('SELECT id, series_id AS seriesId, sha256, path FROM instances WHERE sop_instance_uid = ?')
    .get(obj.sopInstanceUid) as { id: number; seriesId: number; sha256: string; path: string } | undefined;
  const now = nowIso();

  if (existing && existing.sha256 === obj.sha256) {
    unlinkSync(obj.tmpPath);
    db.prepare('UPDATE instances SET receive_count = receive_count + 1, updated_at = ? WHERE id = ?').run(now, existing.id);
    logger.info('duplicate instance received: identical bytes, kept the stored copy', {
      seriesId: existing.seriesId,
      sopInstanceUid: obj.sopInstanceUid,
    });
    return { status: StoreStatus.Success, outcome: 'duplicate', instanceId: existing.id, seriesId: existing.seriesId };
  }

  const finalPath = join(spoolDir, rel);
  mkdirSync(dirname(finalPath), { recursive: true });
  renameSync(obj.tmpPath, finalPath);
  fsyncDir(dirname(finalPath));
  if (existing && existing.path !== rel) {
    // A replacement whose header moved it to another study/series: the old file goes.
    try {
      unlinkSync(join(spoolDir, existing.path));
    } catch {
      // already gone
    }
  }

  const tx = db.transaction(() => {
    db.prepare(
      `INSERT INTO studies (study_uid, patient_name, patient_id, accession_number, study_date, specific_character_set, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(study_uid) DO UPDATE SET updated_at = excluded.updated_at`,
    ).run(info.studyUid, info.patientName, info.patientId, info.accessionNumber, info.studyDate, info.specificCharacterSet, now, now);
    const studyId = db.prepare('SELECT id FROM studies WHERE study_uid = ?').pluck().get(info.studyUid) as number;
    const prior = db.prepare('SELECT id, state FROM series WHERE series_uid = ?').get(info.seriesUid) as
      | { id: number; state: string }
      | undefined;
    let seriesId: number;
    if (prior) {
      seriesId = prior.id;
      db.prepare(`UPDATE series SET state = 'receiving', last_received_at = ?, completed_at = NULL WHERE id = ?`).run(now, seriesId);
      if (prior.state === 'complete') {
        recordEvent(db, 'series.reopened', 'an instance arrived after completion: the series will be analysed again', {
          seriesId,
          data: { sopInstanceUid: obj.sopInstanceUid },
        });
      }
    } else {
      seriesId = Number(
        db
          .prepare(
            `INSERT INTO series (study_id, series_uid, modality, description, first_received_at, last_received_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(studyId, info.seriesUid, info.modality, info.seriesDescription, now, now).lastInsertRowid,
      );
      recordEvent(db, 'series.receiving', 'first instance of a new series received', { seriesId });
    }
    let instanceId: number;
    if (existing) {
      instanceId = existing.id;
      db.prepare(
        `UPDATE instances SET series_id = ?, sop_class_uid = ?, transfer_syntax_uid = ?, path = ?, size = ?, sha256 = ?,
           calling_ae = ?, receive_count = receive_count + 1, updated_at = ? WHERE id = ?`,
      ).run(seriesId, obj.sopClassUid, obj.transferSyntaxUid, rel, obj.size, obj.sha256, obj.callingAeTitle, now, existing.id);
    } else {
      instanceId = Number(
        db
          .prepare(
            `INSERT INTO instances (series_id, sop_instance_uid, sop_class_uid, transfer_syntax_uid, path, size, sha256, calling_ae, received_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(seriesId, obj.sopInstanceUid, obj.sopClassUid, obj.transferSyntaxUid, rel, obj.size, obj.sha256, obj.callingAeTitle, now, now)
          .lastInsertRowid,
      );
    }
    db.prepare('UPDATE series SET instance_count = (SELECT COUNT(*) FROM instances WHERE series_id = ?) WHERE id = ?').run(seriesId, seriesId);
    // The latest instance's promise wins; instances of one acquisition carry the same value.
    if (info.imagesInAcquisition) db.prepare('UPDATE series SET expected_instances = ? WHERE id = ?').run(info.imagesInAcquisition, seriesId);
    return { instanceId, seriesId };
  });
  const { instanceId, seriesId } = tx();
  if (existing) {
    logger.warn('instance received again with different bytes: the new copy replaces the stored one', {
      seriesId,
      sopInstanceUid: obj.sopInstanceUid,
    });
  }
  return { status: StoreStatus.Success, outcome: existing ? 'replaced' : 'stored', instanceId, seriesId };
}
