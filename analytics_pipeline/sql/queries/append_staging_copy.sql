COPY append_staging (ord, event_id, event_type, camera_id, ts, frame_number, snapshot_path,
                     event_data)
FROM STDIN (FORMAT BINARY)
