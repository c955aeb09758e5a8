-- A village's attendance lists who attended elsewhere in a month: its members' check-ins by
-- time. Without this, every check-in of the database was read for one village's month.
CREATE INDEX checkins_home_at ON checkins(home_org, at);
