-- QA: autopsy ground truth per case (a case is a study: the autopsy answers for the decedent, whatever series were
-- sent). Append-only: a correction is a new row, the latest row per study is the current finding, older rows are its
-- history.
CREATE TABLE ground_truth (
  id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies(id),
  hemorrhage INTEGER NOT NULL CHECK (hemorrhage IN (0, 1)),
  -- JSON array of subtype words (epidural, intraparenchymal, intraventricular, subarachnoid, subdural).
  subtypes TEXT NOT NULL DEFAULT '[]',
  autopsy_date TEXT,
  note TEXT,
  entered_by TEXT NOT NULL,
  entered_at TEXT NOT NULL
);
CREATE INDEX ground_truth_study ON ground_truth(study_id, id);
CREATE TRIGGER ground_truth_no_update BEFORE UPDATE ON ground_truth
  BEGIN SELECT RAISE(ABORT, 'ground truth is append-only: enter a new finding instead'); END;
CREATE TRIGGER ground_truth_no_delete BEFORE DELETE ON ground_truth
  BEGIN SELECT RAISE(ABORT, 'ground truth is append-only: enter a new finding instead'); END;

-- Who read patient data or changed anything through the API, when, from where, and with what outcome. Append-only
-- (triggers), and the API has no route that writes to it other than by recording a request.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  -- Token name (or 'anonymous' for a request without a valid token) and its role.
  actor TEXT NOT NULL,
  role TEXT,
  source TEXT,
  action TEXT NOT NULL CHECK (action IN ('read', 'change', 'denied')),
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  -- What was touched, e.g. 'case 12' or 'cases (list)'; JSON details such as filters or the new value.
  target TEXT,
  details TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
