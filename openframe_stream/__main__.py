"""`python -m openframe_stream` is the `openframe-stream` CLI."""

from openframe_stream.cli import main

main()
