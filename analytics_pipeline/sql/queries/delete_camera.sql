DELETE FROM cameras WHERE id = %(id)s RETURNING id
