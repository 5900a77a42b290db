"""Query building: typed queries that always carry a tenant, and their renderings for Pinot and CQL."""
