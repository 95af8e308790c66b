-- This analyzer stops: it no longer counts in the others' fair share; forgets long-dead ones.
DELETE FROM analyzer_members
WHERE owner = %(owner)s OR expires_at < now() - interval '1 day'
