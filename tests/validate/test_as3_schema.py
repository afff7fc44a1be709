"""Schema discovery: option, env, config, cache hit, pinned download (real server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderer.as3_schema import KnownSchema, cache_dir, find_schema
from renderer.errors import ValidateError

SCHEMA_BYTES = b'{"definitions": {"ADC": {"type": "object"}}}\n'


class SchemaServer:
    """Serves `body` at /schema.json and counts the requests it gets."""

    def __init__(self) -> None:
        self.body = SCHEMA_BYTES
        self.status = 200
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/schema.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def known(self, sha: str | None = None) -> dict[str, KnownSchema]:
        return {"3.56.0": KnownSchema(self.url, sha or hashlib.sha256(SCHEMA_BYTES).hexdigest())}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[SchemaServer]:
    srv = SchemaServer()
    yield srv
    srv.close()


def _env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path / "home")}


def _find(env: dict[str, str], **kw: object):
    args = {"option": None, "environ": env, "config_schema": None, "repo_root": None, "schema_version": "3.56.0"}
    args.update(kw)
    return find_schema(**args)  # type: ignore[arg-type]


def test_option_path_wins_over_env_and_config(tmp_path: Path) -> None:
    opt, env_file = tmp_path / "opt.json", tmp_path / "env.json"
    opt.write_bytes(SCHEMA_BYTES)
    env_file.write_bytes(SCHEMA_BYTES)
    env = {**_env(tmp_path), "AS3_SCHEMA": str(env_file)}
    found = _find(env, option=str(opt), config_schema="x.json", repo_root=tmp_path)
    assert (found.path, found.origin) == (opt, "--as3-schema")


def test_env_variable_is_used_when_no_option(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_bytes(SCHEMA_BYTES)
    found = _find({**_env(tmp_path), "AS3_SCHEMA": str(env_file)}, config_schema="x.json", repo_root=tmp_path)
    assert (found.path, found.origin) == (env_file, "the AS3_SCHEMA environment variable")


def test_config_path_is_relative_to_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "repo" / "schemas").mkdir(parents=True)
    (tmp_path / "repo" / "schemas" / "as3.json").write_bytes(SCHEMA_BYTES)
    found = _find(_env(tmp_path), config_schema="schemas/as3.json", repo_root=tmp_path / "repo")
    assert found.path == tmp_path / "repo" / "schemas" / "as3.json"
    assert found.origin == "as3.schema in as3-gitops.yaml"


def test_missing_option_file_is_an_error_naming_the_source(tmp_path: Path) -> None:
    with pytest.raises(ValidateError) as info:
        _find(_env(tmp_path), option=str(tmp_path / "nope.json"))
    assert info.value.message == f"{tmp_path / 'nope.json'}: AS3 schema not found (from --as3-schema)"
    assert "AS3_SCHEMA" in (info.value.hint or "")


def test_cache_dir_honours_xdg_cache_home_then_home(tmp_path: Path) -> None:
    assert cache_dir({"XDG_CACHE_HOME": "/x/cache", "HOME": "/h"}) == Path("/x/cache/as3-gitops")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/as3-gitops")


def test_first_use_downloads_verifies_and_caches(tmp_path: Path, server: SchemaServer) -> None:
    env = _env(tmp_path)
    found = _find(env, known=server.known())
    target = tmp_path / "cache" / "as3-gitops" / "as3-schema-3.56.0.json"
    assert found.path == target
    assert target.read_bytes() == SCHEMA_BYTES
    assert server.requests == ["/schema.json"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["as3-schema-3.56.0.json"]  # no temp left


def test_verified_cache_hit_never_touches_the_network(tmp_path: Path, server: SchemaServer) -> None:
    env = _env(tmp_path)
    _find(env, known=server.known())
    server.close()  # the network is gone now
    found = _find(env, known=server.known())
    assert found.origin.startswith("the cache")
    assert server.requests == ["/schema.json"]


def test_short_version_names_the_same_cached_file(tmp_path: Path, server: SchemaServer) -> None:
    found = _find(_env(tmp_path), known=server.known(), schema_version="3.56")
    assert found.path.name == "as3-schema-3.56.0.json"


def test_sha256_mismatch_is_rejected_and_nothing_is_cached(tmp_path: Path, server: SchemaServer) -> None:
    server.body = SCHEMA_BYTES.replace(b"object", b"string")
    with pytest.raises(ValidateError) as info:
        _find(_env(tmp_path), known=server.known())
    assert "has sha256 " in info.value.message and info.value.message.endswith("; not cached")
    assert not (tmp_path / "cache" / "as3-gitops" / "as3-schema-3.56.0.json").exists()


def test_tampered_cached_copy_is_replaced_by_a_fresh_download(tmp_path: Path, server: SchemaServer) -> None:
    env = _env(tmp_path)
    target = tmp_path / "cache" / "as3-gitops" / "as3-schema-3.56.0.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b'{"tampered": true}')
    _find(env, known=server.known())
    assert target.read_bytes() == SCHEMA_BYTES
    assert server.requests == ["/schema.json"]


def test_http_error_is_a_clear_validate_error(tmp_path: Path, server: SchemaServer) -> None:
    server.status = 404
    with pytest.raises(ValidateError) as info:
        _find(_env(tmp_path), known=server.known())
    assert info.value.message == f"cannot download the AS3 schema 3.56.0 from {server.url} (HTTPError)"


def test_offline_without_schema_says_how_to_provide_one(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    known = {"3.56.0": KnownSchema(f"http://127.0.0.1:{port}/schema.json", "0" * 64)}
    with pytest.raises(ValidateError) as info:
        _find(_env(tmp_path), known=known)
    assert info.value.message.startswith("cannot download the AS3 schema 3.56.0 from http://127.0.0.1:")
    assert info.value.hint is not None and info.value.hint.startswith("offline? provide the schema with --as3-schema")


def test_unknown_version_has_no_pinned_download(tmp_path: Path) -> None:
    with pytest.raises(ValidateError) as info:
        _find(_env(tmp_path), schema_version="3.50.0")
    assert info.value.message == "no pinned download for AS3 schema 3.50.0 (known: 3.56.0)"


def test_pinned_table_holds_the_reference_hash_of_3_56_0(as3_schema_path: Path) -> None:
    from renderer.as3_schema import KNOWN_SCHEMAS

    assert hashlib.sha256(as3_schema_path.read_bytes()).hexdigest() == KNOWN_SCHEMAS["3.56.0"].sha256
