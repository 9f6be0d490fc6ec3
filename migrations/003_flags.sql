-- Worklist flags for positive cases: one row per (result, channel), delivered with retries like the outbox.
CREATE TABLE flags (
  id INTEGER PRIMARY KEY,
  result_id INTEGER NOT NULL REFERENCES results(id),
  channel TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT,
  delivered_at TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (result_id, channel)
);
CREATE INDEX flags_due ON flags(state, next_attempt_at);
