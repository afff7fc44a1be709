"""A deterministic synthetic configuration repository of N Ingresses, and the counts it must render to.

The shape follows issue 9: every Ingress has an ip, a balance mode, a partition (spread over 10
tenants) and a JSON health annotation; one in ten fans out by host/path over 3 Services. Each
Service has Endpoints with 10 ready addresses; one Service in twenty also has two EndpointSlices
(the mirrored form, which wins over Endpoints). There are N/10 flannel Nodes plus the BIG-IP's own
Node. With `mix="crd"`, three in ten of the non-fan-out Ingresses are CIS VirtualServers instead
(host, address, partition, one pool with an HTTP monitor) and one in ten a TransportServer (TCP, one
pool with a TCP monitor). `mix="all"` adds the other input kinds on top of crd: one in ten resources
is an OpenShift Route (on the shared `ose_vserver`) and one in ten an Application of its team's AS3
ConfigMap (one ConfigMap and tenant per namespace, its pool filled by service discovery); see
extra_kinds.py. Manifests are written as text (not through yaml.dump, which would dominate the run time) in
files of 100 documents, so the same seed gives the same bytes on every machine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import extra_kinds

TENANTS = 10
PER_FILE = 100
ADDRESSES = 10
FANOUT_EVERY = 10  # Ingress i with i % 10 == 0 routes host/path to Services i, i+1, i+2
SLICE_EVERY = 20  # Service i with i % 20 == 5 also has EndpointSlices
MIXES = ("ingress", "crd", "all")
VS_SLOTS = (5, 6, 7)  # i % 10 in these: VirtualServer in the crd mix (Ingress 1 and Service 3 stay: diff change)
TS_SLOTS = (8,)
ROUTE_SLOTS = (4,)  # the all mix only
AS3_SLOTS = (9,)  # the all mix only: an Application of the namespace's AS3 ConfigMap
BALANCES = ("round-robin", "least-connections-member", "ratio-member", "fastest-app-response")
CHANGED_BALANCE = "least-sessions"
BIGIP_NODE = "bigip"
CONFIG = """\
# Synthetic benchmark repository (benchmarks/generate.py); cluster mode over flannel VXLAN.
bigip:
  partition: tenant0
  poolMemberType: cluster
  ingressClass: f5
  schemaVersion: "3.56.0"
vxlan:
  tunnel: flannel_vxlan
  profile: fl-vxlan
  port: 8472
  floodingType: none
  key: 1
  localAddress: 192.167.0.254
  selfIP: 10.127.0.15/8
  bigipNode: bigip
  vtepMAC: "0e:ff:00:00:00:01"
  podCIDR: 10.127.0.0/24
paths:
  manifests: [manifests]
  snapshot: [snapshot]
"""
INGRESS_CLASS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: f5
spec:
  controller: f5.com/cntr-ingress-svcs
"""
GIT_ENV = {
    "GIT_AUTHOR_NAME": "as3-gitops benchmark",
    "GIT_AUTHOR_EMAIL": "benchmark@example.invalid",
    "GIT_COMMITTER_NAME": "as3-gitops benchmark",
    "GIT_COMMITTER_EMAIL": "benchmark@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@dataclass(frozen=True)
class Expected:
    """What the repository must render to, computed from the generator's rules (not from a render)."""

    ingresses: int
    services: int
    endpoint_slices: int
    nodes: int
    documents: int
    tenants: int
    virtual_servers: int
    pools: int
    members: int
    monitors: int
    policies: int
    fdb_records: int
    arps: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def node_count(size: int) -> int:
    return max(1, size // 10)


def is_fanout(i: int, size: int) -> bool:
    return i % FANOUT_EVERY == 0 and i + 2 < size


def has_slices(i: int) -> bool:
    return i % SLICE_EVERY == 5


def kind_of(i: int, size: int, mix: str) -> str:
    """Ingress, VirtualServer, TransportServer, Route or AS3 (an AS3 ConfigMap Application) for resource i."""
    if mix in ("crd", "all") and not is_fanout(i, size):
        slot = i % FANOUT_EVERY
        if slot in VS_SLOTS:
            return "VirtualServer"
        if slot in TS_SLOTS:
            return "TransportServer"
        if mix == "all" and slot in ROUTE_SLOTS:
            return "Route"
        if mix == "all" and slot in AS3_SLOTS:
            return "AS3"
    return "Ingress"


def as3_chunks(size: int, mix: str) -> int:
    """How many AS3 ConfigMaps (one per namespace that has an AS3 Application): each is one more tenant."""
    return sum(1 for chunk in _chunks(size) if any(kind_of(i, size, mix) == "AS3" for i in chunk))


def expected(size: int, mix: str = "ingress") -> Expected:
    fanouts = sum(1 for i in range(size) if is_fanout(i, size))
    slices = 2 * sum(1 for i in range(size) if has_slices(i))
    pools = size + 2 * fanouts
    nodes = node_count(size)
    kinds = [kind_of(i, size, mix) for i in range(size)]
    virtuals = kinds.count("VirtualServer")
    # Routes share one virtual (ose_vserver) and one policy (openshift_insecure_routes); the Applications
    # of an AS3 ConfigMap are one document per namespace, in a tenant of its own
    routes = 1 if "Route" in kinds else 0
    partitions = {Names.partition(i) for i, kind in enumerate(kinds) if kind not in ("Route", "AS3")}
    partitions |= {Names.partition(0)} if routes else set()  # Routes are in the default partition, tenant0
    configmaps = as3_chunks(size, mix)
    return Expected(
        ingresses=size, services=size, endpoint_slices=slices, nodes=nodes,
        documents=1 + 3 * size - kinds.count("AS3") + configmaps + slices + nodes + 1,
        tenants=len(partitions) + configmaps, virtual_servers=size - kinds.count("Route") + routes,
        pools=pools, members=ADDRESSES * pools,
        monitors=pools, policies=fanouts + virtuals + routes, fdb_records=nodes, arps=ADDRESSES * size,
    )


class Names:
    """Object names and addresses for index i, zero-padded so files sort in generation order."""

    def __init__(self, size: int):
        self.size = size
        self.width = max(5, len(str(size - 1)))
        self.nodes = node_count(size)

    def app(self, i: int) -> str:
        return f"app-{i:0{self.width}d}"

    def svc(self, i: int) -> str:
        return f"svc-{i:0{self.width}d}"

    @staticmethod
    def namespace(i: int) -> str:
        return f"team-{i // PER_FILE:04d}"

    @staticmethod
    def partition(i: int) -> str:
        return f"tenant{i % TENANTS}"

    @staticmethod
    def vip(i: int) -> str:
        block = i // 250
        return f"172.{16 + block // 256}.{block % 256}.{i % 250 + 1}"

    @staticmethod
    def node(k: int) -> str:
        return f"node-{k:05d}"

    def pod(self, i: int, j: int) -> tuple[str, int]:
        """(pod IP, node index) of address j of Service i: spread round-robin over the nodes."""
        p = i * ADDRESSES + j
        k = p % self.nodes
        return f"{_node_prefix(k)}.{p // self.nodes + 2}", k


def _node_prefix(k: int) -> str:
    return f"10.{128 + k // 256}.{k % 256}"


def _health(host: str, paths: list[str]) -> str:
    entries = []
    for n, path in enumerate(paths):
        if n == 2:
            entries.append(f'{{"path": "{host}{path}", "type": "tcp", "interval": 10, "timeout": 31}}')
        else:
            entries.append(f'{{"path": "{host}{path}", "send": "GET {path} HTTP/1.1\\r\\nHost: {host}\\r\\n'
                           f'Connection: close\\r\\n\\r\\n", "recv": "200 OK", "interval": 5, "timeout": 16}}')
    return "[" + ",\n       ".join(entries) + "]"


def ingress_yaml(n: Names, i: int) -> str:
    app, ns = n.app(i), n.namespace(i)
    host = f"{app}.example.com"
    head = f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: benchmark
  annotations:
    virtual-server.f5.com/ip: "{n.vip(i)}"
    virtual-server.f5.com/partition: {n.partition(i)}
    virtual-server.f5.com/balance: {BALANCES[i % len(BALANCES)]}
"""
    if not is_fanout(i, n.size):
        return head + f"""\
    virtual-server.f5.com/health: |
      {_health(host, ["/"])}
spec:
  ingressClassName: f5
  defaultBackend:
    service:
      name: {n.svc(i)}
      port:
        number: 80
"""
    paths = ["/shop", "/api/v1", "/static"]
    body = head + f"""\
    virtual-server.f5.com/health: |
      {_health(host, paths)}
spec:
  ingressClassName: f5
  rules:
  - host: {host}
    http:
      paths:
"""
    for k, path in enumerate(paths):
        body += f"""\
      - path: {path}
        pathType: Prefix
        backend:
          service:
            name: {n.svc(i + k)}
            port:
              number: 80
"""
    return body


def virtualserver_yaml(n: Names, i: int) -> str:
    app, host = n.app(i), f"{n.app(i)}.example.com"
    return f"""\
apiVersion: cis.f5.com/v1
kind: VirtualServer
metadata:
  name: {app}
  namespace: {n.namespace(i)}
  labels:
    f5cr: "true"
    app.kubernetes.io/part-of: benchmark
spec:
  host: {host}
  virtualServerAddress: "{n.vip(i)}"
  partition: {n.partition(i)}
  pools:
  - path: /
    service: {n.svc(i)}
    servicePort: 80
    loadBalancingMethod: {BALANCES[i % len(BALANCES)]}
    monitor:
      type: http
      send: "GET / HTTP/1.1\\r\\nHost: {host}\\r\\nConnection: close\\r\\n\\r\\n"
      recv: "200 OK"
      interval: 5
      timeout: 16
"""


def transportserver_yaml(n: Names, i: int) -> str:
    return f"""\
apiVersion: cis.f5.com/v1
kind: TransportServer
metadata:
  name: {n.app(i)}
  namespace: {n.namespace(i)}
  labels:
    f5cr: "true"
spec:
  virtualServerAddress: "{n.vip(i)}"
  virtualServerPort: 443
  partition: {n.partition(i)}
  mode: standard
  type: tcp
  pool:
    service: {n.svc(i)}
    servicePort: 80
    loadBalancingMethod: {BALANCES[i % len(BALANCES)]}
    monitor: {{type: tcp, interval: 10, timeout: 31}}
"""


def route_yaml(n: Names, i: int) -> str:
    host = f"{n.app(i)}.example.com"
    return extra_kinds.route_yaml(n.app(i), n.namespace(i), n.svc(i), host, BALANCES[i % len(BALANCES)],
                                  _health(host, ["/"]))


def as3_app(n: Names, i: int) -> extra_kinds.As3App:
    return extra_kinds.As3App(extra_kinds.as3_app_name(n.app(i)), n.vip(i), BALANCES[i % len(BALANCES)],
                              f"{n.app(i)}.example.com")


RESOURCE_YAML = {"Ingress": ingress_yaml, "VirtualServer": virtualserver_yaml, "TransportServer": transportserver_yaml,
                 "Route": route_yaml}


def service_yaml(n: Names, i: int, as3: bool = False) -> str:
    labels = extra_kinds.discovery_labels(extra_kinds.as3_tenant(n.namespace(i)),
                                          extra_kinds.as3_app_name(n.app(i))) if as3 else ""
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: {n.svc(i)}
  namespace: {n.namespace(i)}
  labels:
    app.kubernetes.io/name: {n.app(i)}
{labels}spec:
  type: ClusterIP
  clusterIP: 10.96.{i // 250 % 256}.{i % 250 + 1}
  selector:
    app.kubernetes.io/name: {n.app(i)}
  ports:
  - name: http
    port: 80
    targetPort: 8080
    protocol: TCP
"""


def endpoints_yaml(n: Names, i: int) -> str:
    lines = [f"""\
apiVersion: v1
kind: Endpoints
metadata:
  name: {n.svc(i)}
  namespace: {n.namespace(i)}
subsets:
- addresses:
"""]
    for j in range(ADDRESSES):
        ip, k = n.pod(i, j)
        lines.append(f"""\
  - ip: {ip}
    nodeName: {n.node(k)}
    targetRef: {{kind: Pod, name: {n.app(i)}-{j}, namespace: {n.namespace(i)}}}
""")
    lines.append("""\
  ports:
  - name: http
    port: 8080
    protocol: TCP
""")
    return "".join(lines)


def slice_yaml(n: Names, i: int, part: int) -> str:
    half = ADDRESSES // 2
    lines = [f"""\
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {n.svc(i)}-{part}
  namespace: {n.namespace(i)}
  labels:
    kubernetes.io/service-name: {n.svc(i)}
    endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
"""]
    for j in range(part * half, ADDRESSES if part else half):
        ip, k = n.pod(i, j)
        lines.append(f"""\
- addresses: [{ip}]
  conditions: {{ready: true, serving: true, terminating: false}}
  nodeName: {n.node(k)}
""")
    return "".join(lines)


def node_yaml(name: str, mac: str, public_ip: str, cidr: str) -> str:
    return f"""\
apiVersion: v1
kind: Node
metadata:
  name: {name}
  annotations:
    flannel.alpha.coreos.com/backend-data: '{{"VNI":1,"VtepMAC":"{mac}"}}'
    flannel.alpha.coreos.com/backend-type: vxlan
    flannel.alpha.coreos.com/kube-subnet-manager: "true"
    flannel.alpha.coreos.com/public-ip: {public_ip}
spec:
  podCIDR: {cidr}
  podCIDRs: [{cidr}]
status:
  addresses:
  - type: InternalIP
    address: {public_ip}
  - type: Hostname
    address: {name}
  conditions:
  - type: Ready
    status: "True"
"""


def _worker_node(n: Names, k: int) -> str:
    return node_yaml(n.node(k), f"0e:00:00:00:{k >> 8 & 255:02x}:{k & 255:02x}",
                     f"192.168.{k // 250}.{k % 250 + 1}", f"{_node_prefix(k)}.0/24")


def _chunks(count: int) -> Iterator[range]:
    for start in range(0, count, PER_FILE):
        yield range(start, min(start + PER_FILE, count))


def _write(path: Path, docs: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(docs), encoding="utf-8")


def generate(root: Path, size: int, mix: str = "ingress") -> Expected:
    """Write the repository for `size` resources (Ingresses, or the crd mix) into `root` (empty)."""
    if size < 3:
        raise ValueError("size must be at least 3 (a fan-out Ingress needs 3 Services)")
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}")
    n = Names(size)
    root.mkdir(parents=True, exist_ok=True)
    config = CONFIG
    if mix == "all":
        config = config.replace("  ingressClass: f5\n",
                                f"  ingressClass: f5\n  routeVirtualAddress: {extra_kinds.ROUTE_VIRTUAL_ADDRESS}\n")
    (root / "as3-gitops.yaml").write_text(config, encoding="utf-8")
    _write(root / "manifests" / "ingressclass.yaml", [INGRESS_CLASS])
    for f, chunk in enumerate(_chunks(size)):
        kinds = {i: kind_of(i, size, mix) for i in chunk}
        _write(root / "manifests" / "ingresses" / f"ingresses-{f:04d}.yaml",
               [RESOURCE_YAML[kinds[i]](n, i) for i in chunk if kinds[i] != "AS3"])
        apps = [as3_app(n, i) for i in chunk if kinds[i] == "AS3"]
        if apps:
            _write(root / "manifests" / "as3" / f"as3-{f:04d}.yaml",
                   [extra_kinds.as3_configmap_yaml(n.namespace(chunk[0]), apps)])
        _write(root / "manifests" / "services" / f"services-{f:04d}.yaml",
               [service_yaml(n, i, kinds[i] == "AS3") for i in chunk])
        eps = [endpoints_yaml(n, i) for i in chunk]
        _write(root / "snapshot" / "endpoints" / f"endpoints-{f:04d}.yaml", eps)
        slices = [slice_yaml(n, i, part) for i in chunk if has_slices(i) for part in (0, 1)]
        if slices:
            _write(root / "snapshot" / "endpointslices" / f"endpointslices-{f:04d}.yaml", slices)
    bigip = node_yaml(BIGIP_NODE, "0e:ff:00:00:00:01", "192.167.0.254", "10.127.0.0/24")
    for f, chunk in enumerate(_chunks(n.nodes)):
        docs = [_worker_node(n, k) for k in chunk]
        if f == 0:
            docs.insert(0, bigip)
        _write(root / "snapshot" / "nodes" / f"nodes-{f:04d}.yaml", docs)
    return expected(size, mix)


def change_balance(root: Path, size: int, i: int = 1) -> tuple[str, str, str]:
    """Edit one annotation: Ingress i's balance mode. Returns (ingress, old, new)."""
    n = Names(size)
    ing_file = root / "manifests" / "ingresses" / f"ingresses-{i // PER_FILE:04d}.yaml"
    old_balance = BALANCES[i % len(BALANCES)]
    text = ing_file.read_text(encoding="utf-8")
    start = text.index(f"  name: {n.app(i)}\n")
    line = f"    virtual-server.f5.com/balance: {old_balance}\n"
    at = text.index(line, start)
    ing_file.write_text(text[:at] + line.replace(old_balance, CHANGED_BALANCE) + text[at + len(line):],
                        encoding="utf-8")
    return f"{n.namespace(i)}/{n.app(i)}", old_balance, CHANGED_BALANCE


def move_pod(root: Path, size: int, i: int = 3) -> tuple[str, str, str]:
    """Reschedule the first pod of Service i to a free IP on the same node. Returns (service, old, new)."""
    n = Names(size)
    eps_file = root / "snapshot" / "endpoints" / f"endpoints-{i // PER_FILE:04d}.yaml"
    old_ip, k = n.pod(i, 0)
    new_ip = f"{_node_prefix(k)}.250"  # pods use .2-.101 of each node's /24: .250 is free
    text = eps_file.read_text(encoding="utf-8")
    if text.count(f"- ip: {old_ip}\n") != 1:
        raise RuntimeError(f"pod {old_ip} is not unique in {eps_file}")
    eps_file.write_text(text.replace(f"- ip: {old_ip}\n", f"- ip: {new_ip}\n"), encoding="utf-8")
    return f"{n.namespace(i)}/{n.svc(i)}", old_ip, new_ip


@dataclass(frozen=True)
class Change:
    """The head commit of the diff benchmark: one Ingress annotation and one Endpoints file differ."""

    ingress: str
    balance: tuple[str, str]
    service: str
    pod: tuple[str, str]


def apply_change(root: Path, size: int) -> Change:
    """Change Ingress 1's balance annotation and move one pod of Service 3 to a new IP."""
    ingress, old_balance, new_balance = change_balance(root, size)
    service, old_ip, new_ip = move_pod(root, size)
    return Change(ingress, (old_balance, new_balance), service, (old_ip, new_ip))


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    """Commit everything under `root` (a new repository on first use); returns the commit sha."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def manifest_files(root: Path) -> list[Path]:
    """Every YAML file the renderer reads (config excluded), in the renderer's order."""
    return sorted(p for folder in ("manifests", "snapshot") for p in (root / folder).rglob("*.yaml"))
