DELETE FROM retention_pending_files WHERE path = ANY(%(paths)s::text[])
