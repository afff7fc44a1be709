"""Property: whatever happens to the specs of CIS custom resources (and the cis.f5.com annotations of a
LoadBalancer Service), `render` never crashes: exit 0 or 2, no traceback, every error names a file.
Mutations of the custom-resources example plus an IngressLink, ExternalDNS and LoadBalancer Service:
keys deleted, values replaced by other types, unknown keys added, big numbers, odd strings.
In-process CLI, derandomized, bounded: 200 examples in the suite's hypothesis profile, 2,000 in the deep
one (tests/conftest.py), or AS3_GITOPS_CRD_FUZZ_EXAMPLES."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_budget import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "custom-resources"
EXAMPLES = fuzz_examples("AS3_GITOPS_CRD_FUZZ_EXAMPLES", 2)
EXTRA = """apiVersion: cis.f5.com/v1
kind: IngressLink
metadata: {name: il, namespace: cafe}
spec:
  virtualServerAddress: 10.1.10.70
  iRules: [/Common/Proxy_Protocol_iRule]
  selector: {matchLabels: {app: coffee}}
---
apiVersion: cis.f5.com/v1
kind: ExternalDNS
metadata: {name: dns, namespace: cafe}
spec:
  domainName: coffee.example.com
  pools:
  - dataServerName: /Common/DC1
    monitor: {type: http, send: "GET /", recv: "", interval: 10, timeout: 10}
---
apiVersion: v1
kind: Service
metadata:
  name: lb
  namespace: db
  annotations: {cis.f5.com/ip: 10.1.10.80, cis.f5.com/health: '{"interval": 5, "timeout": 10}'}
spec:
  type: LoadBalancer
  ports: [{name: pg, port: 5432, targetPort: 5432}]
"""
LOCATED = re.compile(r"^(manifests/[\w.-]+|as3-gitops\.yaml|ipam-allocations\.yaml):\d+(:\d+)?: error: ")
FILES = ["manifests/cafe.yaml", "manifests/postgres.yaml", "manifests/extra.yaml"]


def _originals() -> dict[str, str]:
    out = {rel: (EXAMPLE / rel).read_text() for rel in FILES[:2]}
    out["manifests/extra.yaml"] = EXTRA
    return out


ORIGINALS = _originals()
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**65), max_value=2**65), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(["", "/", "*", "/Common/x", "10.0.0.1", "::1", "a" * 300, "none",
                                           "redirect", "allow", "passthrough", "reencrypt", "bigip", "secret",
                                           "Common", "80", "udp", "performance", "*.example.com"]),
    st.lists(st.sampled_from(["/Common/a", "none", 7, None]), max_size=3),
    st.dictionaries(st.sampled_from(["service", "servicePort", "path", "x", "monitor"]),
                    st.one_of(st.integers(0, 70000), st.text(max_size=8)), max_size=3),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, str]:
    rel = draw(st.sampled_from(FILES))
    docs = [d for d in yaml.safe_load_all(ORIGINALS[rel]) if d]
    doc = draw(st.sampled_from(docs))
    target = doc.get("spec") if doc.get("kind") != "Service" else doc["metadata"]
    paths = [("spec", *p) for p in _paths(target)] if doc.get("kind") != "Service" else \
        [("metadata", *p) for p in _paths(target)] + [("spec", *p) for p in _paths(doc["spec"])]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            kind = draw(st.sampled_from(["replace", "delete", "add"]))
            if kind == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif kind == "add" and isinstance(node, dict):
                node[draw(st.sampled_from(["hostname", "servicePort", "virtualServerAdress", "weight", "tls",
                                           "alternateBackends", "serviceAddress", "ipamLabel"]))] = draw(VALUES)
            else:
                node[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    return rel, yaml.safe_dump_all(docs, sort_keys=False)


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("crdfuzz") / "repo"
    shutil.copytree(EXAMPLE, repo)
    (repo / "manifests" / "extra.yaml").write_text(EXTRA)
    with (repo / "as3-gitops.yaml").open("a") as fh:
        fh.write("ipam:\n  Test: 10.9.0.0/28\n")
    return repo


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(change=mutation())
def test_mutated_custom_resources_never_crash_render(fuzz_repo: Path, change: tuple[str, str],
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    rel, content = change
    for name, original in ORIGINALS.items():
        (fuzz_repo / name).write_text(content if name == rel else original)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["render", str(fuzz_repo), "--no-validate", "-o", str(fuzz_repo / "out"), "--format", "text"])
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), (rel, content)
    assert code in (0, 2), (code, err.getvalue())
    errors = [line for line in err.getvalue().splitlines() if ": error: " in line or line.startswith("error:")]
    assert (code == 2) == bool(errors), err.getvalue()
    assert all(LOCATED.match(line) for line in errors), errors
