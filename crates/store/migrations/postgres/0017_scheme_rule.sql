-- Whole-township advancement may ask for the township's scheme of the year approved with every
-- item done (the issue's default rule); existing campaigns keep their rule as it was.
ALTER TABLE campaigns ADD COLUMN advance_scheme_done BIGINT NOT NULL DEFAULT 0;
