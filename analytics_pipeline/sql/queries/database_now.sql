-- The database's clock (leases and --until-end runs never use the local one).
SELECT now() AS now
