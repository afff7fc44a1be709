"""Helpers for the kube view tests: YAML text -> documents -> (Cluster, findings as text)."""

from __future__ import annotations

from renderer.errors import Finding
from renderer.kube.load import Cluster, load_cluster
from renderer.source import Document, parse_file


def documents(text: str, path: str = "m.yaml") -> list[Document]:
    _, docs, problems = parse_file(path, text.encode())
    assert not problems, problems
    return docs


def shown(findings: list[Finding]) -> list[str]:
    """`path:line:col: CODE message`, in the order the findings were made."""
    return [f"{f.location}: {f.code} {f.message}" for f in findings]


def load(text: str) -> tuple[Cluster, list[str]]:
    cluster, findings = load_cluster(documents(text))
    return cluster, shown(findings)
