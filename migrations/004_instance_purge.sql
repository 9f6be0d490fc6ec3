-- Housekeeping: when a received file was removed from the spool after the retention period (the row stays as the
-- record of what was received).
ALTER TABLE instances ADD COLUMN purged_at TEXT;
