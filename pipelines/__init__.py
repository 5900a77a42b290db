"""Pure pipeline logic: mappers, normalization, enrichment. No I/O."""
