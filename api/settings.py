"""Settings of the read API (compose into the root `Settings` as `api: ApiSettings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address the API server binds to.")
    port: int = Field(8080, description="Port the API server listens on.")
    jwks: str = Field(
        ".stack/api/jwks.json",
        description="JWKS with the tenants' RS256 public keys: an http(s) URL or a file path. Each key names its "
        "tenant in a `tenant_id` member; rotation adds a key with a new `kid`.",
    )
    jwks_cache_seconds: float = Field(300.0, description="Seconds a fetched JWKS is trusted before it is re-read.")
    issuer: str = Field("openframe-local", description="Required `iss` claim of user tokens.")
    audience: str = Field("openframe-stream-api", description="Required `aud` claim of user tokens.")
    clock_skew_seconds: int = Field(30, description="Leeway in seconds for `exp`, `nbf` and `iat`.")
    api_keys_file: Path = Field(
        Path(".stack/api/api-keys.json"),
        description="API-key store: JSON of key id -> tenant, scopes and the HMAC-SHA256 of the secret (never the "
        "secret itself).",
    )
    pepper_file: Path = Field(
        Path(".stack/api/pepper"),
        description="File with the server-side pepper of API-key hashes (created 0600 by `api keys create`).",
    )
    pepper: SecretStr | None = Field(None, description="The pepper itself; when set it wins over `pepper_file`.")
    rate_limit_per_second: float = Field(10.0, description="Sustained requests per second allowed per API key.")
    rate_limit_burst: int = Field(20, description="Requests an API key may send at once (token-bucket size).")
    pinot_table: str | None = Field(None, description="Pinot table to read; empty: the sink's `pinot_sink.table`.")
    keyspace: str | None = Field(None, description="Cassandra keyspace to read; empty: `cassandra.keyspace`.")
    query_timeout_seconds: float = Field(10.0, description="Timeout of one Pinot or Cassandra query.")
    timeline_months: int = Field(
        13, description="How many monthly buckets of a device timeline are searched back from the newest one."
    )
    worker_metrics_url: str = Field(
        "http://127.0.0.1:6066/metrics",
        description="The stream worker's Prometheus endpoint; the dashboard shows its consumer lag.",
    )
    worker_group: str = Field("openframe-stream", description="Consumer group whose lag the dashboard shows.")
    stats_max_buckets: int = Field(2000, description="Most time buckets one /stats request may ask for.")
