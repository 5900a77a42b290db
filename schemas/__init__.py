"""One definition of the data: Avro, Pinot schema and table JSON, CQL."""
