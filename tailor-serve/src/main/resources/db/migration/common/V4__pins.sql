-- Pinned versions (V4; uses V1's table only): a pinned version is loaded when the server starts and never evicted
-- from its adapter cache. Every version registered before this migration is unpinned.
ALTER TABLE adapter_version ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
