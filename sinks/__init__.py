"""Sinks sharing one small contract: Cassandra writer, Pinot and Mongo provisioning."""
