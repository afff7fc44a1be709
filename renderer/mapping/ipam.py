"""`ipamLabel` without an address: allocations from the `ipam:` ranges of as3-gitops.yaml.

CIS asks the F5 IPAM controller at run time; a reviewed render cannot. `as3-gitops ipam allocate`
writes every allocation to ipam-allocations.yaml (committed, reviewed like the snapshot), and render
only reads that file. An allocation, once made, never moves: existing entries are kept as they are
and new requests take the lowest free address of their label's range, in sorted key order. The keys
are CIS's IPAM keys (`<ns>/<host>_host`, `<hostGroup>_hg`, `<ns>/<name>_ts`, `_il`, `_svc`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from renderer.config import Config
from renderer.errors import Finding, SourceLocation
from renderer.kube.crd import CustomResource, IngressLinkCR, TransportServerCR, VirtualServerCR
from renderer.kube.load import Cluster
from renderer.kube.objects import ObjectMeta
from renderer.source import Tree, parse_file

ALLOCATIONS_FILE = "ipam-allocations.yaml"
LB_LABEL = "cis.f5.com/ipamLabel"
_HEADER = ("# Written by `as3-gitops ipam allocate`: ipamLabel -> CIS IPAM key -> address. Review it like the\n"
           "# snapshot; an allocation never moves once made (new keys take the lowest free address).\n")


@dataclass(frozen=True)
class Request:
    label: str
    key: str
    meta: ObjectMeta


def ipam_key(res: CustomResource) -> str:
    meta = res.meta
    if isinstance(res, VirtualServerCR):
        if res.host_group:
            return f"{res.host_group}_hg"
        return f"{meta.namespace}/{res.host}_host" if res.host else f"{meta.namespace}/{meta.name}_vs"
    if isinstance(res, TransportServerCR):
        group = res.text("hostGroup")
        return f"{group}_hg" if group else f"{meta.namespace}/{meta.name}_ts"
    if isinstance(res, IngressLinkCR):
        return f"{meta.namespace}/{meta.name}_il"
    return f"{meta.namespace}/{meta.name}_svc"


def requests(cluster: Cluster) -> list[Request]:
    """Every (label, key) a resource without an explicit address asks for, sorted."""
    out: dict[tuple[str, str], Request] = {}
    crds = cluster.crds
    for res in [*crds.virtual_servers, *crds.transport_servers, *crds.ingress_links]:
        if res.ipam_label and not res.address:
            out.setdefault((res.ipam_label, ipam_key(res)), Request(res.ipam_label, ipam_key(res), res.meta))
    for svc in cluster.services.values():
        label = svc.meta.annotations.get(LB_LABEL)
        if svc.type == "LoadBalancer" and label and "cis.f5.com/ip" not in svc.meta.annotations:
            key = f"{svc.meta.namespace}/{svc.meta.name}_svc"
            out.setdefault((label, key), Request(label, key, svc.meta))
    return [out[k] for k in sorted(out)]


def _addresses(spec: tuple[str, ...]) -> Iterator[str]:
    for item in spec:
        net = ipaddress.ip_network(item, strict=False)
        if net.num_addresses == 1:
            yield str(net.network_address)
        else:
            yield from (str(a) for a in net.hosts())


def _range_problem(label: str, spec: tuple[str, ...]) -> str | None:
    try:
        list(zip(range(1), _addresses(spec), strict=False))
    except ValueError as err:
        return f"ipam.{label}: {err}"
    return None


def _inside(address: str, spec: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(item, strict=False) for item in spec)
    except ValueError:
        return False


def load_allocations(tree: Tree) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    raw = tree.read(ALLOCATIONS_FILE)
    if raw is None:
        return {}, []
    _src, docs, findings = parse_file(ALLOCATIONS_FILE, raw)
    if findings:
        return {}, findings
    data: Any = docs[0].data if docs else {}
    allocs = (data or {}).get("allocations") if isinstance(data, dict) else None
    if not isinstance(allocs, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) and all(isinstance(a, str) and isinstance(b, str)
                                                             for a, b in v.items()) for k, v in allocs.items()):
        return {}, [Finding("CRD060", f"{ALLOCATIONS_FILE} must map allocations: label -> key -> address",
                            docs[0].location if docs else SourceLocation(ALLOCATIONS_FILE),
                            hint="regenerate it with `as3-gitops ipam allocate`")]
    return {label: dict(keys) for label, keys in allocs.items()}, []


def allocate(config: Config, wanted: list[Request], existing: dict[str, dict[str, str]]
             ) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """Keep every existing allocation still requested; give new keys the lowest free address."""
    findings: list[Finding] = []
    result: dict[str, dict[str, str]] = {}
    by_label: dict[str, list[Request]] = {}
    for req in wanted:
        by_label.setdefault(req.label, []).append(req)
    for label, reqs in sorted(by_label.items()):
        spec = config.ipam.get(label)
        if spec is None:
            for req in reqs:
                findings.append(Finding("CRD061", f"{req.meta.kind} {req.meta.ident}: ipamLabel {label!r} has no "
                                        "range in as3-gitops.yaml", req.meta.location,
                                        hint=f"add ipam: {{{label}: <CIDR>}} to as3-gitops.yaml"))
            continue
        problem = _range_problem(label, spec)
        if problem:
            findings.append(Finding("CRD062", problem, config.location))
            continue
        old = existing.get(label, {})
        mine = {r.key: old[r.key] for r in reqs if r.key in old and _inside(old[r.key], spec)}
        used = set(mine.values())
        free = (a for a in _addresses(spec) if a not in used)
        for req in reqs:
            if req.key in mine:
                continue
            address = next(free, None)
            if address is None:
                findings.append(Finding("CRD063", f"ipam range of {label!r} is exhausted; no address for "
                                        f"{req.key}", req.meta.location, hint="widen the range in as3-gitops.yaml"))
                continue
            mine[req.key] = address
        result[label] = dict(sorted(mine.items()))
    return result, findings


def dump_allocations(allocs: dict[str, dict[str, str]]) -> bytes:
    body = yaml.safe_dump({"allocations": {k: allocs[k] for k in sorted(allocs)}}, sort_keys=True,
                          default_flow_style=False)
    return (_HEADER + body).encode()


class Ipam:
    """The render-time view: (resource, key) -> its recorded address, checked against the range."""

    def __init__(self, config: Config, allocations: dict[str, dict[str, str]], findings: list[Finding]):
        self.config = config
        self.allocations = allocations
        self.findings = findings

    def __call__(self, res: CustomResource, key: str) -> str | None:
        return self.lookup(res.ipam_label, key, res.meta, ("spec", "ipamLabel"))

    def lookup(self, label: str, key: str, meta: ObjectMeta,
               keys: tuple[str, ...] = ("metadata", "annotations", LB_LABEL)) -> str | None:
        spec = self.config.ipam.get(label)
        if spec is None:
            self.findings.append(Finding("CRD061", f"{meta.kind} {meta.ident}: ipamLabel {label!r} has no range in "
                                         "as3-gitops.yaml", meta.locate(*keys),
                                         hint=f"add ipam: {{{label}: <CIDR>}} to as3-gitops.yaml"))
            return None
        address = self.allocations.get(label, {}).get(key)
        if address is None:
            return None
        if not _inside(address, spec):
            self.findings.append(Finding("CRD064", f"{ALLOCATIONS_FILE}: {label}/{key} = {address} is outside the "
                                         f"ipam range of {label!r}", SourceLocation(ALLOCATIONS_FILE),
                                         hint="run `as3-gitops ipam allocate` after changing a range"))
            return None
        return address
