"""Deploy cost against the BIG-IP emulator: what a one-endpoint change sends to the device.

A 10-tenant repository is deployed once (everything), then one pod moves (one Endpoints entry),
and the second deploy is recorded request by request on the emulator's side, so the numbers do
not depend on the client's own counters (the deploy report's counters are shown next to them).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from benchmarks.generate import Names, commit_all, generate, move_pod
from benchmarks.measure import captured

TENANT_SIZE = 100  # Ingresses: 10 tenants of 10 applications (the default)


@dataclass
class Recorded:
    method: str
    path: str
    body_bytes: int


def _start_emulator(schema: Path) -> tuple[Any, Any, str, list[Recorded]]:
    from renderer.emulator.device import Device, EmulatorConfig
    from renderer.emulator.server import EmulatorServer
    from renderer.validate import As3Validator

    password = secrets.token_hex(12)
    device = Device(EmulatorConfig(username="admin", password=password), validator=As3Validator.from_path(schema))
    log: list[Recorded] = []
    handle = device.handle

    def recording(req: Any) -> Any:
        log.append(Recorded(req.method, req.target, len(req.body)))
        return handle(req)

    device.handle = recording  # type: ignore[method-assign]
    server = EmulatorServer(device, "127.0.0.1", 0, None).start()
    return device, server, password, log


def _deploy(repo: Path, url: str, password: str, report: Path) -> dict[str, Any]:
    from renderer.cli import main

    saved = {k: os.environ.get(k) for k in ("BIGIP_USERNAME", "BIGIP_PASSWORD")}
    os.environ["BIGIP_USERNAME"], os.environ["BIGIP_PASSWORD"] = "admin", password
    try:
        with captured() as (_out, err):
            code = main(["deploy", str(repo), "--ref", "HEAD", "--no-cache", "--host", url, "--busy-backoff", "0.05",
                         "--poll-interval", "0.02", "--report", str(report)])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if code != 0:
        raise RuntimeError(f"deploy exited {code}: {err.getvalue()[-2000:]}")
    return json.loads(report.read_text())


def measure_deploy(work: Path, schema: Path, size: int = TENANT_SIZE) -> dict[str, Any]:
    """Deploy, move one pod, deploy again; the second deploy's requests, bytes and tenants."""
    repo = work / "deploy-repo"
    generate(repo, size)
    commit_all(repo, "ten tenants")
    _device, server, password, log = _start_emulator(schema)
    try:
        first = _deploy(repo, server.url, password, work / "deploy-1.json")
        first_kinds = _by_kind(log)
        service, old_ip, new_ip = move_pod(repo, size)
        commit_all(repo, f"pod {old_ip} -> {new_ip}")
        log.clear()
        second = _deploy(repo, server.url, password, work / "deploy-2.json")
    finally:
        server.stop()
    tenant = Names.partition(3)
    from renderer.render import render

    rendered = render(repo, "HEAD").as3["declaration"][tenant]
    tenant_bytes = len(orjson.dumps(rendered))
    as3_posts = [r for r in log if r.method == "POST" and "/appsvcs/declare" in r.path]
    posted_tenants = sorted({t for r in as3_posts for t in urlsplit(r.path).path.rsplit("/", 1)[-1].split(",")})
    apply_bytes = max((r.body_bytes for r in as3_posts), default=0)
    return {
        "repository": f"{size} Ingresses in 10 tenants; Service {service}: pod {old_ip} -> {new_ip}",
        "first_deploy": {"requests": first["requests"], "bytes_sent": first["bytes_sent"],
                         "tenants_changed": first["tenants_changed"], "requests_by_kind": first_kinds},
        "requests": len(log),
        "requests_by_kind": _by_kind(log),
        "bytes_posted": sum(r.body_bytes for r in log),
        "report": {k: second[k] for k in ("outcome", "tenants_changed", "network_changed", "requests", "writes",
                                          "bytes_sent", "bytes_received")},
        "as3_posts": [{"path": r.path, "bytes": r.body_bytes} for r in as3_posts],
        "as3_tenants_posted": posted_tenants,
        "tenant": tenant,
        "tenant_json_bytes": tenant_bytes,
        "largest_as3_post_bytes": apply_bytes,
        "as3_bytes_posted": sum(r.body_bytes for r in as3_posts),
    }


def _by_kind(log: list[Recorded]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for r in log:
        path = urlsplit(r.path).path
        parts = ["{id}" if p.isdigit() else p for p in path.split("/") if p][:4]
        key = f"{r.method} /{'/'.join(parts)}"
        kinds[key] = kinds.get(key, 0) + 1
    return dict(sorted(kinds.items()))
