-- Fencing: the tokens this owner holds for these cameras, locked (FOR SHARE) until the
-- append that follows commits, so no claim can slip between the check and the append.
SELECT camera_id, token
FROM camera_leases
WHERE owner = %(owner)s AND camera_id = ANY(%(camera_ids)s::text[])
FOR SHARE
