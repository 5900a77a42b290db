"""Every Faust internal this project leans on, in one package, for one pinned faust-streaming.

- `consumer`: the fetch fix (records of paused partitions are un-read, not dropped) and the batch
  path (whole fetched batches go to the stage shell; acks are taken per batch).
- `recovery`: stream partitions resume only after the seek to committed offsets.
- `tables`: a table write outside Faust's per-event loop names the partition it belongs to.

Each override reaches into private attributes of one faust-streaming release. A different release
may rename them silently, so importing this package with any other version fails at once.
"""

from __future__ import annotations

from importlib import metadata

PINNED_FAUST = "0.15.3"


class FaustVersionError(ImportError):
    """The installed faust-streaming is not the release the overrides were written against."""


def check_version(installed: str | None = None) -> None:
    found = installed if installed is not None else metadata.version("faust-streaming")
    if found != PINNED_FAUST:
        raise FaustVersionError(
            f"faust-streaming {found} is installed, but topologies/faust_ext overrides internals of "
            f"{PINNED_FAUST}: pin faust-streaming=={PINNED_FAUST} or port the overrides"
        )


check_version()
