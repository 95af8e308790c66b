-- Camera leases (issue 11): which analyzer process holds each camera, on any machine.
-- A lease is claimed when it is free or expired by the database's clock, renewed every few
-- seconds and released on a clean exit. The fencing token grows at every claim: an analyzer
-- appends a camera's events only while the row still carries its owner and token
-- (sql/queries/lease_tokens.sql locks the rows during the append), so one that was paused
-- past its lease and lost the camera appends nothing more for it.
CREATE TABLE camera_leases (
    camera_id  varchar(100) PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
    owner      text,                                  -- host:pid; NULL when released
    token      bigint      NOT NULL DEFAULT 0,        -- fencing token, +1 at every claim
    expires_at timestamptz NOT NULL DEFAULT '-infinity',
    claimed_at timestamptz
);

CREATE INDEX camera_leases_owner ON camera_leases (owner);

-- The analyzer processes alive now (renewed with their leases): each claims its fair share,
-- the enabled cameras divided by the live analyzers, up to its own capacity.
CREATE TABLE analyzer_members (
    owner      text        PRIMARY KEY,
    capacity   integer     NOT NULL CHECK (capacity > 0),
    expires_at timestamptz NOT NULL
);
