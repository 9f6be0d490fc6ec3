-- The node's record of state. Each pipeline stage moves rows from one state to the next, so a restart resumes
-- where the node stopped. Times are ISO-8601 UTC text.

CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL UNIQUE,
  -- Decoded to Unicode from the source's SpecificCharacterSet; patient data stays in the database, never in logs.
  patient_name TEXT,
  patient_id TEXT,
  accession_number TEXT,
  study_date TEXT,
  specific_character_set TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies(id),
  series_uid TEXT NOT NULL UNIQUE,
  modality TEXT,
  description TEXT,
  -- receiving: instances arriving; complete: quiet time passed, a job was queued.
  state TEXT NOT NULL DEFAULT 'receiving' CHECK (state IN ('receiving', 'complete')),
  instance_count INTEGER NOT NULL DEFAULT 0,
  first_received_at TEXT NOT NULL,
  last_received_at TEXT NOT NULL,
  completed_at TEXT
);
CREATE INDEX series_state ON series(state, last_received_at);

CREATE TABLE instances (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id),
  sop_instance_uid TEXT NOT NULL UNIQUE,
  sop_class_uid TEXT NOT NULL,
  transfer_syntax_uid TEXT NOT NULL,
  -- Path of the stored file, relative to the spool folder.
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  calling_ae TEXT,
  -- How many times this SOP Instance UID arrived (duplicates are harmless: same bytes no-op, new bytes replace).
  receive_count INTEGER NOT NULL DEFAULT 1,
  received_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX instances_series ON instances(series_id);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id),
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Why the job exists: series completed, or re-opened by a late instance.
  reason TEXT NOT NULL,
  error TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX jobs_state ON jobs(state, id);

CREATE TABLE results (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  series_id INTEGER NOT NULL REFERENCES series(id),
  -- analysed: scored; no-slices: nothing in the series was an axial CT slice (see skipped).
  status TEXT NOT NULL CHECK (status IN ('analysed', 'no-slices')),
  ensemble_name TEXT NOT NULL,
  ensemble_version TEXT NOT NULL,
  ensemble_digest TEXT NOT NULL,
  case_score REAL,
  decision TEXT CHECK (decision IN ('present', 'absent')),
  threshold REAL NOT NULL,
  threshold_method TEXT NOT NULL,
  slice_count INTEGER NOT NULL,
  -- JSON array of slice indexes (rank order) of the key slices.
  key_slices TEXT NOT NULL DEFAULT '[]',
  result_digest TEXT NOT NULL,
  inference_ms REAL,
  superseded_by INTEGER REFERENCES results(id),
  created_at TEXT NOT NULL
);
CREATE INDEX results_series ON results(series_id);

CREATE TABLE slice_results (
  result_id INTEGER NOT NULL REFERENCES results(id),
  slice_index INTEGER NOT NULL,
  instance_id INTEGER NOT NULL REFERENCES instances(id),
  frame INTEGER NOT NULL,
  z REAL NOT NULL,
  probability REAL NOT NULL,
  -- JSON object: model name -> probability.
  model_probabilities TEXT NOT NULL,
  PRIMARY KEY (result_id, slice_index)
);

CREATE TABLE skipped (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  instance_id INTEGER REFERENCES instances(id),
  frame INTEGER,
  code TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('excluded', 'failed')),
  message TEXT NOT NULL
);
CREATE INDEX skipped_job ON skipped(job_id);

CREATE TABLE outputs (
  id INTEGER PRIMARY KEY,
  result_id INTEGER NOT NULL REFERENCES results(id),
  kind TEXT NOT NULL,
  idx INTEGER NOT NULL,
  sop_class_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (result_id, kind, idx)
);

CREATE TABLE dispatches (
  id INTEGER PRIMARY KEY,
  output_id INTEGER NOT NULL REFERENCES outputs(id),
  destination TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT,
  delivered_at TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (output_id, destination)
);
CREATE INDEX dispatches_due ON dispatches(state, next_attempt_at);

-- Every step and outcome, for audit queries. Never carries patient names or IDs in `message`.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  series_id INTEGER,
  job_id INTEGER,
  message TEXT NOT NULL,
  data TEXT
);
CREATE INDEX events_kind ON events(kind, at);
