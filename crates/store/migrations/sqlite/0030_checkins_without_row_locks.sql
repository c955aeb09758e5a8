-- PostgreSQL drops the check-in's foreign keys (their row locks cost the burst); SQLite keeps
-- them: its check of a foreign key takes no lock and writes nothing.
SELECT 1;
