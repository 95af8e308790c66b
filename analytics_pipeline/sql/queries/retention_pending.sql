-- Files of purged rows still to remove (left by an interrupted run, or queued just now).
SELECT path FROM retention_pending_files ORDER BY path LIMIT %(limit)s
