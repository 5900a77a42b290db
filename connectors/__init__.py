"""Debezium and Kafka Connect configs and their client."""
