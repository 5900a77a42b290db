from __future__ import annotations

import re
from pathlib import Path

from openframe_stream.settings_cli import markdown_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_settings_table_is_the_generated_one() -> None:
    match = re.search(r"<!-- settings-table -->\n(.*?)\n<!-- /settings-table -->", README.read_text(), re.S)
    assert match, "README lost its settings-table markers"
    assert match.group(1) == markdown_table(), "run `openframe-stream settings` and paste it into the README"
