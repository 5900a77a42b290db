"""The local stack: real servers provisioned from package registries, started and health-checked."""
