"""The Cassandra event-history sink."""
