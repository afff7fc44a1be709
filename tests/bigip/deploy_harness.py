"""Helpers for deploy/plan tests against the emulator: repos, CLI runs with timed faults, state views."""

from __future__ import annotations

import copy
import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from renderer.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
HELLO = REPO_ROOT / "examples" / "hello-world"
SECOND = Path(__file__).resolve().parent / "fixtures" / "second-tenant"
FAST = ["--busy-backoff", "0.05", "--poll-interval", "0.02"]


class TriggerStream(io.StringIO):
    """stderr stand-in: when the deploy announces a step ("deploy: apply..."), run that step's hook.

    This is how a test injects a fault at an exact point of the sequence (e.g. after the dry-run,
    before the apply) through the emulator's control API, with no change to the code under test.
    """

    def __init__(self, hooks: dict[str, Callable[[], Any]]):
        super().__init__()
        self.hooks = dict(hooks)

    def write(self, text: str) -> int:
        for step in list(self.hooks):
            if text == f"deploy: {step}...\n":
                self.hooks.pop(step)()
        return super().write(text)


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(args: list[str], hooks: dict[str, Callable[[], Any]] | None = None) -> Run:
    out, err = io.StringIO(), TriggerStream(hooks or {})
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(args)
    finally:
        sys.stdout, sys.stderr = saved
    assert not err.hooks, f"steps never reached: {sorted(err.hooks)}"
    return Run(code, out.getvalue(), err.getvalue())


def deploy_args(repo: Any, emulator: Any, *extra: str) -> list[str]:
    tls = ["--ca-bundle", emulator.ca_bundle] if emulator.ca_bundle else []
    return ["deploy", str(repo.path), "--host", emulator.url, *tls, *FAST, *extra]


def two_tenant_repo(make_repo: Callable[..., Any]) -> Any:
    repo = make_repo(HELLO)
    shutil.copytree(SECOND, repo.path, dirs_exist_ok=True)
    repo.commit(message="second tenant")
    return repo


def move_pod(repo: Any, old: str, new: str, file: str = "snapshot/endpoints.yaml") -> str:
    """Reschedule one pod: its IP changes in the endpoint snapshot; returns the new commit."""
    path = repo.path / file
    path.write_text(path.read_text().replace(f"ip: {old}\n", f"ip: {new}\n"))
    return repo.commit(message=f"pod {old} -> {new}")


def config_view(state: dict[str, Any]) -> bytes:
    """The device's configuration as canonical bytes.

    Left out, because they are bookkeeping rather than configuration: the request log, AS3
    history (a rollback is itself a deploy and adds entries), `controls.archiveTimestamp` (AS3
    stamps every post) and iControl `generation` counters (every write bumps them).
    """
    data = copy.deepcopy(
        {"as3": state["as3"], "net": state["net"], "ltm": state["ltm"]["dataGroups"], "saveCount": state["saveCount"]}
    )
    data["as3"].pop("history", None)
    for decl in (data["as3"].get("meta"), data["as3"].get("declaration")):
        if isinstance(decl, dict) and isinstance(decl.get("controls"), dict):
            decl["controls"].pop("archiveTimestamp", None)
    data["net"].pop("generation", None)

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "generation"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(data), sort_keys=True).encode()


LOCK_AND_JOURNAL = "/mgmt/tm/ltm/data-group/internal"


def writes(log: list[dict[str, Any]]) -> list[str]:
    """Configuration writes in the request log: not auth requests, and not the deploy lock and intent
    journal data-groups, which every deploy creates and deletes (`bookkeeping` lists those)."""
    return [
        f"{e['method']} {e['path']}"
        for e in log
        if e["method"] != "GET"
        and not e["path"].startswith(("/mgmt/shared/authn", "/mgmt/shared/authz", LOCK_AND_JOURNAL))
    ]


def bookkeeping(log: list[dict[str, Any]]) -> list[str]:
    """The lock and journal requests of the request log, in order (GETs too)."""
    return [f"{e['method']} {e['path']}" for e in log if e["path"].startswith(LOCK_AND_JOURNAL)]


def basic_post(emulator: Any, path: str, body: Any, method: str = "POST") -> requests.Response:
    """Someone changing the device by hand (basic auth), outside git."""
    return requests.request(
        method,
        emulator.url + path,
        json=body,
        auth=(emulator.username, emulator.password),
        verify=emulator.ca_bundle or True,
        timeout=30,
    )


def change_member_by_hand(emulator: Any, repo: Any) -> None:
    """Someone edits a pool member on the device directly, keeping the declaration's id/remark."""
    adc = json.loads(json.dumps(emulator.control.state()["as3"]["declaration"]))
    pool = adc["kubernetes"]["Shared"]["ingress_default_vs_01_hello_world_svc_80"]
    pool["members"][0]["serverAddresses"] = ["10.10.1.99"]
    reply = basic_post(emulator, f"{'/mgmt/shared/appsvcs/declare'}/kubernetes", adc)
    assert reply.status_code == 200, reply.text
