"""The Faust app, its topics, tables and agents: thin I/O shells over `pipelines`."""
