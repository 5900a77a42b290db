"""The versioned Debezium connector configs, one JSON file per tool source (loaded by `connectors.specs`)."""
