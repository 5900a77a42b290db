"""The connector watchdog: judges each CDC task by its progress, not by the state Connect reports.

`progress` says whether a source is ahead of its connector and for how long the connector has not
moved (pure). `decide` turns one observation into a verdict and the healing actions (pure).
`probes` reads the sources (PostgreSQL slots, the MariaDB binlog) and Kafka Connect; `watchdog`
runs the loop that observes, decides, acts and exports the metrics.
"""
