"""Issue 15: 2,000+ generated hostile or unlucky inputs through `as3-gitops render`, in-process.

Every run must end in exit 0 or 2 (never 5, never a traceback), within a few seconds (never a
hang), and write both output files or neither. The inputs are made by a seeded random.Random, so
every CI run sees the same 2,000 cases (set AS3_GITOPS_SAFETY_FUZZ to run more or fewer), in four
parts of consecutive cases so that pytest-xdist can run them side by side.
Mutations: annotation values (the defect-8 inputs among them), names, field types and values,
YAML text edits, aliases and duplicate keys, as3-gitops.yaml keys and limits, paths that leave
the repository, symlinks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from renderer.cli import main

CASES = int(os.environ.get("AS3_GITOPS_SAFETY_FUZZ", "2000"))
SEED = 15
PARTS = 4

CONFIG = "bigip:\n  partition: k8s\n  poolMemberType: nodeport\n"
SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
"""
SECRET = """apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata: {name: tls, namespace: shop}
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\\nx\\n-----END CERTIFICATE-----\\n"
  tls.key: "-----BEGIN PRIVATE KEY-----\\nSECRETKEYMATERIAL\\n-----END PRIVATE KEY-----\\n"
"""
NODE = """apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  addresses: [{type: InternalIP, address: 192.168.1.11}]
"""
ANNOTATIONS = ["ip", "http-port", "https-port", "balance", "health", "clientssl", "serverssl", "partition",
               "rewrite-app-root", "rewrite-target-url", "whitelist-source-range", "allow-source-range",
               "translate-server-address"]
NASTY = ["", " ", "²", "٣", "9" * 5000, "-1", "0", "65536", str(2**64), str(2**64 + 1), "null", "[]", "{}", "[{}]",
         '[{"path": 1}]', '[{"path": "a/", "interval": ' + "9" * 5000 + "}]", "[" * 3000, '{"a": 1, "a": 2}',
         "10.0.0.1/" + "9" * 5000, "10.0.0.1%" + "9" * 5000, "10.0.0.1/33", "::1/129", "1.2.3.4%1/24", "a=b=c",
         "=", ",", ",,,", "/", "x" * 300, "Common", "\n```\n<img src=x onerror=alert(1)>\n<!--", "|", "`", "\x00",
         "true", "false", "TRUE", "yes", '[{"hosts": ["a"], "bigIpProfile": 7}]', '[{"bigIpProfile": "/Common/x"}]',
         "least-connections", "round-robin", "a/b=c/d", "host=/path", "/", "*"]
NAMES = ["web", "a-b", "a.b", "Web", "web_1", "-web", "web-", "9web", "w" * 64, "w" * 254, "a\nb", "`", "<b>", "",
         "ingress", "shop"]
VALUES = [None, True, 0, -1, 2**64, 10**5000 if False else "9" * 5000, 1.5, float("1e308"), "", "x", [], {}, [1],
          {"a": 1}, "10.0.0.1", [None], [{"name": 1}]]
CONFIG_LINES = [
    "bigip:\n  partition: Common\n", "bigip:\n  partition: k8s\n  defaultRouteDomain: " + "9" * 5000 + "\n",
    "paths:\n  manifests: [../..]\n", "paths:\n  manifests: [/etc]\n", "paths:\n  manifests: [manifests, ../x]\n",
    "templates: ../../\n", "templates: /tmp\n", "snapshot:\n  maxAge: \"" + "9" * 5000 + "h\"\n",
    "limits:\n  maxAliases: 0\n", "limits:\n  maxFileMiB: 0\n", "limits: {templateSeconds: 0}\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
    "bigip: {}\nbigip: {}\n", "environment: \"a\\nb\"\n", "bigip:\n  ingressClass: f5\n  ingressClass: other\n",
    "vxlan: 1\n", "paths: []\n", "- a\n", "\t",
]
TEMPLATES = [
    "{{ 'x' * 10**10 }}", "{% for i in range(100001) %}{% endfor %}", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "[1, 2]", '{% include "../../as3-gitops.yaml" %}', "{{ 10 ** 10 ** 10 }}", "{{ '%999999999d' % 1 }}",
    "{{ ''.__class__ }}", "{% for %}", "{{ 1 / 0 }}", "null",
]


def ingress(rng: random.Random) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop", "annotations": {
            "kubernetes.io/ingress.class": "f5", "virtual-server.f5.com/ip": "10.1.1.1",
            "virtual-server.f5.com/health": '[{"path": "shop.example.com/", "interval": 5, "timeout": 10}]'}},
        "spec": {"tls": [{"hosts": ["shop.example.com"], "secretName": "tls"}],
                 "rules": [{"host": "shop.example.com", "http": {"paths": [
                     {"path": "/", "pathType": "Prefix",
                      "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]},
    }


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _set(node, path, value) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def case(rng: random.Random) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """(files, extra render options, symlinks) for one generated repository."""
    ing = ingress(rng)
    files = {"as3-gitops.yaml": CONFIG, "manifests/svc.yaml": SERVICE, "manifests/secret.yaml": SECRET,
             "snapshot/node.yaml": NODE}
    links: dict[str, str] = {}
    options: list[str] = []
    kind = rng.choices(["annotation", "name", "field", "text", "yaml", "config", "template", "link"],
                       weights=[8, 4, 6, 6, 3, 4, 1, 1])[0]
    if kind == "annotation":
        for _ in range(rng.randint(1, 3)):
            ing["metadata"]["annotations"]["virtual-server.f5.com/" + rng.choice(ANNOTATIONS)] = rng.choice(NASTY)
    elif kind == "name":
        target = rng.choice([("metadata", "name"), ("metadata", "namespace"),
                             ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "name"),
                             ("spec", "tls", 0, "secretName"), ("spec", "rules", 0, "host")])
        _set(ing, target, rng.choice(NAMES))
    elif kind == "field":
        paths = [p for p in _paths(ing) if p]
        for _ in range(rng.randint(1, 2)):
            path = rng.choice(paths)
            with contextlib.suppress(KeyError, IndexError, TypeError):
                _set(ing, path, rng.choice(VALUES))
    text = json.dumps(ing, indent=1) if rng.random() < 0.2 else _yaml(ing)
    name = "manifests/ing.json" if text.startswith("{") else "manifests/ing.yaml"
    if kind == "text":
        chars = list(text)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(chars) + 1)
            op = rng.random()
            if op < 0.4 and chars:
                del chars[min(at, len(chars) - 1)]
            else:
                chars.insert(at, rng.choice(":-{}[]&*!|>'\"#%@`=\t\n ,?x9é\ufeff"))
        text = "".join(chars)
    elif kind == "yaml":
        text = rng.choice([
            text + "\n---\n" + text, text.replace("metadata:", "metadata:\n  name: dup\nmetadata:", 1),
            "a: &a [" + ",".join(["x"] * 20) + "]\nb: &b [" + ",".join(["*a"] * 20) + "]\nc: [" + ",".join(["*b"] * 20)
            + "]\n", "x: " + "[" * 5000, "- " * 3000 + "x", text + "\n" + "\n".join(f"k{i}: &a{i} v" for i in range(50)),
        ])
        name = "manifests/ing.yaml"
    elif kind == "config":
        files["as3-gitops.yaml"] = CONFIG + rng.choice(CONFIG_LINES) if rng.random() < 0.5 else rng.choice(CONFIG_LINES)
    elif kind == "template":
        files["as3-gitops.yaml"] = CONFIG + "templates: tpl\nlimits: {templateSeconds: 3, templateMemoryMiB: 256}\n"
        files["tpl/" + rng.choice(["declaration.json.j2", "pool.json.j2"])] = rng.choice(TEMPLATES)
    elif kind == "link":
        links[rng.choice(["manifests/outside.yaml", "as3-gitops.yaml", "snapshot/x.yaml"])] = "/etc/hostname"
        if "as3-gitops.yaml" in links:
            files.pop("as3-gitops.yaml")
    files[name] = text
    if rng.random() < 0.1:
        options.append("--emit-bigip-node")
    return files, options, links


def _yaml(doc: dict) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, width=1_000_000)


class _Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Hang


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_generated_inputs_never_crash_hang_or_half_write(tmp_path: Path, part: int) -> None:
    """Cases [part * CASES / PARTS, (part + 1) * CASES / PARTS) of the one seeded sequence: the cases
    before them are generated too (cheap) and skipped, so every part sees exactly its cases."""
    rng = random.Random(SEED)
    first, end = part * CASES // PARTS, (part + 1) * CASES // PARTS
    seen: dict[int, int] = {}
    slowest = 0.0
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for n in range(end):
            files, options, links = case(rng)
            if n < first:
                continue
            repo, out = tmp_path / f"r{n}", tmp_path / f"o{n}"
            for rel, text in files.items():
                (repo / rel).parent.mkdir(parents=True, exist_ok=True)
                (repo / rel).write_text(text, encoding="utf-8", errors="surrogatepass")
            for rel, target in links.items():
                (repo / rel).parent.mkdir(parents=True, exist_ok=True)
                (repo / rel).symlink_to(target)
            err = io.StringIO()
            started = time.monotonic()
            signal.alarm(20)
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                    code = main(["render", str(repo), "-o", str(out), "--no-validate", "--format", "text", *options])
            except _Hang:
                pytest.fail(f"case {n} hung: {files}")
            finally:
                signal.alarm(0)
            slowest = max(slowest, time.monotonic() - started)
            text = err.getvalue()
            assert code in (0, 2), (n, code, text, files)
            assert "Traceback" not in text and "internal error" not in text, (n, text)
            assert "SECRETKEYMATERIAL" not in text, (n, text)
            written = sorted(p.name for p in out.iterdir()) if out.exists() else []
            if code == 0:
                assert {"as3.json", "net.json"} <= set(written), (n, written)
            else:
                assert written == [], (n, written, text)
            seen[code] = seen.get(code, 0) + 1
            shutil.rmtree(repo)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    count = end - first
    assert seen.get(0, 0) > count // 20 and seen.get(2, 0) > count // 4, seen  # the generator reaches both outcomes
    assert slowest < 15, slowest
