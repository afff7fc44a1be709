"""Node and Calico BlockAffinity documents -> views: the network facts static routes and VXLAN need."""

from __future__ import annotations

from renderer.errors import Finding
from renderer.kube.objects import BlockAffinity, Node, ObjectMeta
from renderer.kube.reader import Reader


def read_node(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Node:
    r = Reader(meta.doc, meta.base, findings, f"Node {meta.name}")
    addresses = []
    for a in r.get(data, ("status", "addresses"), list, []):
        if isinstance(a, dict) and isinstance(a.get("type"), str) and isinstance(a.get("address"), str):
            addresses.append((a["type"], a["address"]))
    ready: bool | None = None
    for c in r.get(data, ("status", "conditions"), list, []):
        if isinstance(c, dict) and c.get("type") == "Ready":
            ready = c.get("status") == "True"
    cidrs = [c for c in r.get(data, ("spec", "podCIDRs"), list, []) if isinstance(c, str)]
    single = r.get(data, ("spec", "podCIDR"), str)
    if single and single not in cidrs:
        cidrs.insert(0, single)
    return Node(meta, tuple(addresses), ready, tuple(cidrs))


def read_block_affinity(meta: ObjectMeta, data: dict, findings: list[Finding]) -> BlockAffinity:
    r = Reader(meta.doc, meta.base, findings, f"BlockAffinity {meta.name}")
    return BlockAffinity(meta, r.get(data, ("spec", "node"), str, ""), r.get(data, ("spec", "cidr"), str, ""))
