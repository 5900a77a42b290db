"""`openframe-stream api ...`: serve the read API, manage API keys, mint local tokens, write the spec."""

from __future__ import annotations

from pathlib import Path

import click

from api.auth.principal import SCOPES
from api.settings import ApiSettings
from api.tenancy import Tenant


def _settings(ctx: click.Context) -> tuple[object, ApiSettings]:
    from api.wiring import api_settings
    from openframe_stream.cli import settings_of

    root = settings_of(ctx)
    return root, api_settings(root)


@click.group("api")
def api() -> None:
    """The read API: tenant-scoped event queries over Pinot and Cassandra, and the /dashboard."""


@api.command("serve")
@click.option("--host", default=None, help="Bind address (default: api.host).")
@click.option("--port", type=int, default=None, help="Port (default: api.port).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the API with uvicorn."""
    import uvicorn

    from api.app import create_app
    from api.wiring import build_readers

    root, settings = _settings(ctx)
    app = create_app(settings, build_readers(root, settings))
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info",
                server_header=False, proxy_headers=False)


@api.group("keys")
def keys() -> None:
    """API keys for integrations (stored as HMAC hashes; the secret is shown once)."""


@keys.command("create")
@click.option("--tenant", required=True, help="The tenant the key reads.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), default=SCOPES, show_default=True)
@click.option("--name", default="integration", help="A label for people.")
@click.pass_context
def keys_create(ctx: click.Context, tenant: str, scopes: tuple[str, ...], name: str) -> None:
    from api.auth.apikeys import create_key, ensure_pepper

    _, settings = _settings(ctx)
    pepper = settings.pepper.get_secret_value().encode() if settings.pepper else ensure_pepper(settings.pepper_file)
    click.echo(create_key(settings.api_keys_file, pepper, Tenant(tenant), scopes, name))


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    from api.auth.apikeys import revoke_key

    _, settings = _settings(ctx)
    if not revoke_key(settings.api_keys_file, key_id):
        raise click.ClickException(f"no key {key_id}")
    click.echo(f"revoked {key_id}")


@api.command("token")
@click.option("--tenant", default="oss", show_default=True)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), default=SCOPES, show_default=True)
@click.option("--ttl", type=int, default=3600, show_default=True, help="Lifetime in seconds.")
@click.option("--dashboard", is_flag=True, help="Print a /dashboard link that signs in with the token.")
@click.pass_context
def token(ctx: click.Context, tenant: str, scopes: tuple[str, ...], ttl: int, dashboard: bool) -> None:
    """Mint a token with a local per-tenant key (published to the JWKS file). For development only."""
    from api.auth import local

    _, settings = _settings(ctx)
    if settings.jwks.startswith(("http://", "https://")):
        raise click.ClickException("api.jwks is a URL: tokens come from that identity provider")
    jwks_file = Path(settings.jwks)
    t = Tenant(tenant)
    key, kid = local.tenant_key(jwks_file.parent / "signing", jwks_file, t)
    signed = local.sign(key, kid, local.claims(t, settings.issuer, settings.audience, scopes, ttl))
    click.echo(f"http://{settings.host}:{settings.port}/dashboard#token={signed}" if dashboard else signed)


@api.command("openapi")
@click.option("--check", is_flag=True, help="Exit 1 when api/openapi.json is out of date, without writing.")
def openapi(check: bool) -> None:
    """Write the OpenAPI document to api/openapi.json."""
    from api import openapi as spec

    if check:
        if not spec.SPEC_PATH.exists() or spec.SPEC_PATH.read_text() != spec.render():
            raise click.ClickException("api/openapi.json is out of date: run `openframe-stream api openapi`")
        return
    click.echo("updated" if spec.write() else "unchanged")
