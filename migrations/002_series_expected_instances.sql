-- What the headers promise about a series' size: ImagesInAcquisition (0020,1002) when the instances carry it.
-- A series whose instance count reaches the promise completes without waiting for the quiet time.
ALTER TABLE series ADD COLUMN expected_instances INTEGER;
