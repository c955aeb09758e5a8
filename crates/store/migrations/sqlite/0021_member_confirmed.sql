-- A member's record over time. `confirmed` is the day (or only the month) the member became a
-- full member (转正); dates of Party life are kept as written, `YYYY-MM-DD` or `YYYY-MM`.
ALTER TABLE members ADD COLUMN confirmed TEXT;

