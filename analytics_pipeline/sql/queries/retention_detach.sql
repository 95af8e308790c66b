-- Detaches one partition without blocking readers ({mode}: CONCURRENTLY), or completes a
-- detach that was interrupted ({mode}: FINALIZE). Never inside a transaction block.
ALTER TABLE {parent} DETACH PARTITION {partition} {mode}
