-- What was firing when a recipient was last mailed about an alert, summed up: a group of
-- alerts that gains one is mailed at once, the same group again waits for the repeat interval.
ALTER TABLE alerts ADD COLUMN digest bigint NOT NULL DEFAULT 0;
