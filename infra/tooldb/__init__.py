"""Real-shaped tool tables (Tactical RMM on PostgreSQL, Fleet on MariaDB): `infra.tooldb.provision.provision`."""
