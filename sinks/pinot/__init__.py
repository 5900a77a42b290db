"""Pinot reads the enriched topic itself (a REALTIME upsert table); this package provisions it."""
