from __future__ import annotations

from connectors.settings import ConnectorSettings
from connectors.specs import load_templates, placeholder_values, render
from connectors.watchdog.decide import Verdict
from connectors.watchdog.metrics import WatchdogMetrics
from connectors.watchdog.probes import Target
from connectors.watchdog.report import Judged, human_bytes, parse_watchdog, progress_cell
from openframe_stream.settings import Settings


def test_the_status_reads_back_what_the_watchdog_exports() -> None:
    from prometheus_client import generate_latest

    metrics = WatchdogMetrics()
    metrics.record(Verdict("tactical", "stalled", True, 75.0, 4096, 80.0))
    metrics.record(Verdict("fleet", "ok", False, 0.0, 12, 1.0))
    judged = parse_watchdog(generate_latest(metrics.registry).decode())
    assert judged == {"tactical": Judged(True, 75.0, 4096.0), "fleet": Judged(False, 0.0, 12.0)}


def test_progress_cells() -> None:
    assert progress_cell(4096, Judged(True, 75.0, 4096.0), True) == ("STALLED 75s, lag 4.0 KiB", True)
    assert progress_cell(12, Judged(False, 0.0, 12.0), True) == ("progressing, lag 12 B", False)
    assert progress_cell(None, None, False) == ("lag ? (no watchdog)", False)
    assert progress_cell(0, None, True) == ("lag 0 B (not watched)", False)
    assert human_bytes(3 * 1024**3) == "3.0 GiB"


def test_targets_come_from_the_rendered_connector_configs() -> None:
    settings = Settings()
    values = placeholder_values(settings, ConnectorSettings(tactical_slot="slot_x"))
    rendered = {t.name: render(t, values) for t in load_templates()}
    tactical = Target.of(rendered["tactical-rmm-postgres"])
    assert tactical is not None
    assert (tactical.kind, tactical.slot, tactical.user, tactical.database) == (
        "postgres", "slot_x", settings.postgres.cdc_user, settings.postgres.database,
    )
    fleet = Target.of(rendered["fleet-mariadb"])
    assert fleet is not None and fleet.kind == "mariadb" and fleet.port == settings.mariadb.port
    assert Target.of(rendered["meshcentral-mongodb"]) is None
