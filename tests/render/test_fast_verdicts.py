"""jsonschema-rs says yes first, python-jsonschema explains a no (renderer/config.py and
renderer/mapping/configmap.py): the findings are exactly those of python-jsonschema alone, on the
examples' files and on values where the two libraries differ (a trailing newline that Python's `$`
accepts, YAML dates and integer keys Rust cannot take, booleans, big integers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderer import config as config_module
from renderer.config import CONFIG_FILE, load_config
from renderer.mapping import configmap as configmap_module
from renderer.source import WorkTree

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(REPO_ROOT.glob("examples/*/as3-gitops.yaml"))


def _python_only() -> Any:
    """A verdict that always defers (as for a value Rust cannot take): python-jsonschema decides."""
    class Defer:
        def is_valid(self, _data: Any) -> bool:
            raise ValueError("deferred to python-jsonschema")

    return Defer()


def _config_variants() -> list[str]:
    texts = [path.read_text() for path in CONFIGS]
    base = yaml.safe_load(texts[0])
    variants = [
        {**base, "bigip": {**base["bigip"], "partition": "kubernetes\n"}},  # Python's $ accepts it, Rust's not
        {**base, "bigip": {**base["bigip"], "partition": "Common"}},
        {**base, "bigip": {**base["bigip"], "schemaVersion": "3.56.0\n"}},
        {**base, "vxlan": {**base["vxlan"], "port": True}},
        {**base, "vxlan": {**base["vxlan"], "port": 10**30}},
        {**base, "vxlan": {**base["vxlan"], "port": 8472.0}},
        {**base, "bigip": {**base["bigip"], "partiton": "x"}},
        {**base, "environment": "prod\n"},
    ]
    texts += [yaml.safe_dump(v) for v in variants]
    texts += [texts[0] + "\nsnapshotMaxAge: 2024-01-01\n", texts[0] + "\n7: seven\n", "bigip: [1, 2]\n",
              texts[0] + "\nvxlan: {port: 2024-01-01}\n"]
    return texts


@pytest.mark.parametrize("text", _config_variants())
def test_config_findings_are_python_jsonschemas(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / CONFIG_FILE).write_text(text)
    fast = load_config(WorkTree(tmp_path))
    monkeypatch.setattr(config_module, "_config_verdict", _python_only)
    assert load_config(WorkTree(tmp_path)) == fast


def _vs_data() -> list[Any]:
    good = {"virtualServer": {"frontend": {"partition": "k8s", "mode": "http", "balance": "round-robin",
                                           "virtualAddress": {"bindAddr": "10.0.0.1", "port": 80}},
                              "backend": {"serviceName": "web", "servicePort": 80}}}
    out: list[Any] = [good]
    for addr in ("10.0.0.1\n", "::1", "10.0.0.256", "fe80::1%eth0", 7, None, "", "10.0.0.1%2"):
        out.append(json.loads(json.dumps(good)))
        out[-1]["virtualServer"]["frontend"]["virtualAddress"]["bindAddr"] = addr
    for port in (0, 65536, "80", 80.0, True, 10**30):
        out.append(json.loads(json.dumps(good)))
        out[-1]["virtualServer"]["frontend"]["virtualAddress"]["port"] = port
    out += [{}, [], {"virtualServer": {}}, {"virtualServer": {"frontend": {}, "backend": {}, "x": 1}}]
    return out


@pytest.mark.parametrize("data", _vs_data())
def test_virtual_server_configmap_errors_are_python_jsonschemas(data: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def messages() -> list[tuple[str, ...]]:
        return [(e.message, *map(str, e.absolute_path)) for e in configmap_module._schema_errors(data)]

    fast = messages()
    monkeypatch.setattr(configmap_module, "_verdict", _python_only)
    assert messages() == fast
