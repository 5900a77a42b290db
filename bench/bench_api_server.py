"""The API over given stores, served by uvicorn in its own process (so the bench client and the server
do not share a GIL): `python -m bench.bench_api_server PORT TABLE KEYSPACE JWKS`."""

from __future__ import annotations

import sys

import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import build_readers
from openframe_stream.settings import Settings

ISSUER, AUDIENCE = "bench-issuer", "bench-aud"


def main() -> None:
    port, table, keyspace, jwks = sys.argv[1:5]
    settings = ApiSettings(jwks=jwks, issuer=ISSUER, audience=AUDIENCE, pinot_table=table, keyspace=keyspace,
                           worker_metrics_url="http://127.0.0.1:9/metrics")
    app = create_app(settings, build_readers(Settings.load(), settings))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
