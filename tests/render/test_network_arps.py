"""`_arps` against the rule it implements, spelled out slowly: the first occurrence of a pod IP
(tenants, pools, members in order, then the AS3 tenants by name) gives its node and Service, the
ARPs come in address order and the findings of the pods without one in address order too."""

from __future__ import annotations

import ipaddress
import random
from types import SimpleNamespace as NS

import pytest

from renderer.errors import Origin, SourceLocation
from renderer.mapping import network
from renderer.mapping.members import ip_sort_key, ipv4_int
from renderer.model import Member, Tenant


def _origin(kind: str, name: str) -> Origin:
    return Origin(SourceLocation(f"{kind}.yaml", 1), kind, "default" if kind == "Service" else "", name)


def _cluster(nodes: int, services: int):
    node_objs = {f"n{i}": NS(meta=NS(name=f"n{i}", origin=_origin("Node", f"n{i}"))) for i in range(nodes)}
    svcs = {("default", f"s{i}"): NS(meta=NS(origin=_origin("Service", f"s{i}"))) for i in range(services)}
    cidrs = [(ipaddress.ip_network(f"10.{i}.0.0/16"), node_objs[f"n{i}"]) for i in range(nodes)]
    return NS(nodes=node_objs, services=svcs), cidrs


def _reference(cluster, tenants, mac_of, cidrs, findings, raw, cluster_name):
    """The rule, one pod at a time (what `_arps` did before it became comprehensions)."""
    wanted = {}
    for tenant in tenants.values():
        for pool in tenant.pools.values():
            for m in pool.members:
                if m.address not in wanted and m.cluster == cluster_name:
                    wanted[m.address] = (m.node_name, pool.service)
    for name in sorted(raw):
        for m, service in raw[name].pod_members:
            if m.address not in wanted and m.cluster == cluster_name:
                wanted[m.address] = (m.node_name, service)
    arps = []
    for ip in sorted(wanted, key=ip_sort_key):
        node_name, service = wanted[ip]
        svc = cluster.services.get(service)
        origins = [svc.meta.origin] if svc else []
        node = cluster.nodes.get(node_name) if node_name else None
        mac = mac_of.get(node.meta.name) if node else None
        if ipv4_int(ip) is not None and mac:
            arps.append(network.Arp(ip, mac, [*origins, node.meta.origin]))
            continue
        arp = network._slow_arp(cluster, ip, node_name, service, origins, mac_of, cidrs, findings)
        if arp is not None:
            arps.append(arp)
    return arps


def _random_case(rng: random.Random, odd: bool, fast: bool = False):
    cluster, cidrs = _cluster(6, 5)
    mac_of = {f"n{i}": f"aa:bb:cc:00:00:0{i}" for i in range(6) if i != 4}  # n4: no VtepMAC
    pool_ips = [f"10.{rng.randrange(8)}.{rng.randrange(3)}.{rng.randrange(1, 6)}" for _ in range(40)]
    if odd:
        pool_ips += ["fd00::5", "010.1.0.1", "not-an-ip", "10.1.0.01"]

    def member() -> Member:
        node = rng.choice(["n0", "n1", "n2", "n3"] if fast else ["n0", "n1", "n2", "n3", "n4", "ghost", None, ""])
        return Member(rng.choice(pool_ips), 80, node, rng.choice([None, None, None, "east"]))

    def pool():
        return NS(service=("default", f"s{rng.randrange(6)}"), members=[member() for _ in range(rng.randrange(8))])

    tenants = {f"t{t}": Tenant(f"t{t}", pools={f"p{p}": pool() for p in range(rng.randrange(4))}) for t in range(3)}
    raw = {name: NS(pod_members=[(member(), ("default", f"s{rng.randrange(6)}")) for _ in range(rng.randrange(6))])
           for name in rng.sample(["zeta", "alpha", "mid"], rng.randrange(4))}
    return cluster, tenants, mac_of, cidrs, raw


def _run(fn, cluster, tenants, mac_of, cidrs, raw, cluster_name):
    findings: list = []
    arps = fn(cluster, tenants, mac_of, cidrs, findings, raw, cluster_name)
    return [(a.ip, a.mac, a.origins) for a in arps], findings


@pytest.mark.parametrize(("odd", "fast"), [(False, False), (True, False), (False, True)],
                         ids=["dotted-quads", "with-other-spellings", "every-pod-on-a-node-with-a-vtep"])
def test_arps_match_the_one_pod_at_a_time_rule(odd: bool, fast: bool) -> None:
    """Duplicates within a pool, across pools, tenants and AS3 tenants, with the first occurrence on
    a node with or without a VtepMAC (or none), members of another cluster: same ARPs, same order,
    same findings in the same order."""
    rng = random.Random(19)
    slow = 0
    for _ in range(400):
        cluster, tenants, mac_of, cidrs, raw = _random_case(rng, odd, fast)
        for cluster_name in (None, "east"):
            got = _run(network._arps, cluster, tenants, mac_of, cidrs, raw, cluster_name)
            assert got == _run(_reference, cluster, tenants, mac_of, cidrs, raw, cluster_name)
            slow += bool(got[1])
    assert (slow == 0) if fast else (slow > 100)  # the cases do reach the findings (or never)


def test_first_occurrence_wins_even_when_a_later_one_has_a_vtep_mac() -> None:
    """The pod IP's first member names a node without VtepMAC: no ARP and NET021, although a later
    pool (and an AS3 tenant) has the same IP on a node with one; the other IPs keep theirs."""
    cluster, cidrs = _cluster(3, 3)
    mac_of = {"n0": "aa:bb:cc:00:00:00", "n2": "aa:bb:cc:00:00:02"}
    tenants = {"t": Tenant("t", pools={
        "a": NS(service=("default", "s0"), members=[Member("10.0.0.9", 80, "n0"), Member("10.1.0.1", 80, "n1")]),
        "b": NS(service=("default", "s1"), members=[Member("10.1.0.1", 81, "n2"), Member("10.0.0.9", 81, "n2")])})}
    raw = {"r": NS(pod_members=[(Member("10.1.0.1", 80, "n0"), ("default", "s2")),
                                (Member("10.2.0.3", 80, "n2"), ("default", "s2"))])}
    arps, findings = _run(network._arps, cluster, tenants, mac_of, cidrs, raw, None)
    assert [(ip, mac, [o.name for o in origins]) for ip, mac, origins in arps] == [
        ("10.0.0.9", "aa:bb:cc:00:00:00", ["s0", "n0"]), ("10.2.0.3", "aa:bb:cc:00:00:02", ["s2", "n2"])]
    assert [f.message for f in findings] == [
        "pod IP 10.1.0.1 of Service default/s0: node n1 has no VtepMAC; no ARP entry"]


@pytest.mark.parametrize("strict", [True, False], ids=["inet_pton", "aton-ntoa-round-trip"])
def test_address_order_is_ip_sort_key_order_and_dotted_is_ipv4_int(monkeypatch, strict: bool) -> None:
    """Both ways of checking the dotted quads (inet_pton where it is strict, else the round trip)
    accept exactly what `ipv4_int` accepts and order as `ip_sort_key` does."""
    assert network._PTON_STRICT  # glibc: the fast check is the one that runs here
    monkeypatch.setattr(network, "_PTON_STRICT", strict)
    rng = random.Random(7)
    octets = ["0", "1", "9", "10", "99", "100", "255", "256", "00", "01", "0x1", "a", "", " 1", "1 "]
    odd = ["1.2.3", "1.2.3.4.5", "fd00::1", "::ffff:1.2.3.4", "1.2.3.4\x00", "\u0661.2.3.4", "1.2.3.4 junk", "1e1.2.3.4"]
    for _ in range(300):
        ips = list(dict.fromkeys(f"10.{rng.randrange(256)}.{rng.randrange(4)}.{rng.randrange(256)}"
                                 for _ in range(rng.randrange(1, 30))))
        if rng.random() < 0.5:
            ips.append(rng.choice(odd) if rng.random() < 0.5 else ".".join(rng.choice(octets) for _ in range(4)))
            ips = list(dict.fromkeys(ips))
        order, dotted = network._address_order(ips)
        assert [ips[i] for i in order] == sorted(ips, key=ip_sort_key)
        assert dotted == all(ipv4_int(ip) is not None for ip in ips), ips
