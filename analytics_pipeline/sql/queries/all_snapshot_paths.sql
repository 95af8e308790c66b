SELECT snapshot_path FROM events WHERE snapshot_path IS NOT NULL
