-- The check-in insert no longer checks its member and activity day by foreign key. Each check of
-- a foreign key locks the referenced row (FOR KEY SHARE): every check-in of an activity day
-- locked the same activity-day row, a lock written to the row and the WAL, shared between the
-- batches in flight as a multixact. The batch reads the member (through the card) and the
-- activity day in its own transaction and stores only ids it read; members and activity days
-- are never deleted (no code path deletes either; a member leaves by status).
ALTER TABLE checkins DROP CONSTRAINT IF EXISTS checkins_event_id_fkey;
ALTER TABLE checkins DROP CONSTRAINT IF EXISTS checkins_member_id_fkey;
