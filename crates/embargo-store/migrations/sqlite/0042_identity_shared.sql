-- When the reporter agreed that collaborators may know who they are (empty: they did not,
-- and collaborators are shown neither their name nor their address). Only the fact is in
-- clear; the identity stays sealed in reporter_sealed.
ALTER TABLE cases ADD COLUMN identity_shared_at INTEGER;
