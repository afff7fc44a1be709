"""The per-tenant reuse of the Ingress build (renderer.mapping.tenant_reuse) never changes a result:
each case renders a working tree with a warm cache and without one and requires the same output,
findings and sources, and checks that the reuse did (or, where it must not, did not) happen."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from net_repo import node

from renderer.cache import DiskCache
from renderer.emit_reuse import tenant_keys
from renderer.mapping import tenant_reuse, tenant_store
from renderer.render import RenderResult, render
from renderer.source import ParseCache, dump_json

CONFIG = """bigip:
  partition: k8s
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
"""
NODES = node("n1", "AA:BB:CC:00:00:01", "192.168.1.11", "10.244.1.0/24") + \
    node("n2", "aa:bb:cc:00:00:02", "192.168.1.12", "10.244.2.0/24")


def app(ns: str, name: str, ip: str, tenant: str, pods: tuple[str, ...] = ("10.244.1.5", "10.244.2.5"),
        tls: bool = False) -> str:
    """A Service, its Endpoints and an Ingress for it in `tenant` (and with `tls`, a TLS Secret)."""
    addresses = ", ".join(f"{{ip: {p}, nodeName: n{1 + i % 2}}}" for i, p in enumerate(pods))
    secret = spec_tls = ""
    if tls:
        secret = f"""---
apiVersion: v1
kind: Secret
metadata: {{name: {name}-tls, namespace: {ns}}}
type: kubernetes.io/tls
data: {{tls.crt: Y2VydA==, tls.key: a2V5}}
"""
        spec_tls = f"\n  tls: [{{secretName: {name}-tls}}]"
    return f"""---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  ports: [{{name: http, port: 80}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: {name}, namespace: {ns}}}
subsets:
  - addresses: [{addresses}]
    ports: [{{name: http, port: 8080}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {ns}
  annotations: {{kubernetes.io/ingress.class: f5, virtual-server.f5.com/ip: {ip},
                virtual-server.f5.com/partition: {tenant}}}
spec:{spec_tls}
  defaultBackend: {{service: {{name: {name}, port: {{number: 80}}}}}}
{secret}"""


def write(root: Path, apps: dict[str, str], config: str = CONFIG, nodes: str = NODES) -> Path:
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    (root / "snapshot").mkdir(exist_ok=True)
    (root / "as3-gitops.yaml").write_text(config)
    for old in (root / "manifests").glob("*.yaml"):
        old.unlink()
    for name, text in apps.items():
        (root / "manifests" / f"{name}.yaml").write_text(text)
    (root / "snapshot" / "nodes.yaml").write_text(nodes)
    return root


def outcome(result: RenderResult) -> tuple[Any, ...]:
    findings = [(f.code, f.message, str(f.location), f.severity, f.hint) for f in result.findings]
    return dump_json(result.as3), dump_json(result.net), findings, sorted(
        (k, tuple(map(str, v))) for k, v in result.sources.items())


def warm(root: Path, cache: Path) -> tuple[RenderResult, DiskCache]:
    disk = DiskCache(cache)
    return render(root, cache=ParseCache(disk, remember=False)), disk


def check(root: Path, cache: Path) -> DiskCache:
    """Render with the cache and without it; the same outcome. Returns the cache (its counters)."""
    got, disk = warm(root, cache)
    assert outcome(got) == outcome(render(root))
    return disk


def three_tenants(**pods: tuple[str, ...]) -> dict[str, str]:
    return {t: app(f"ns-{t}", f"web-{t}", f"10.5.5.{i}", t, **({"pods": pods[t]} if t in pods else {}))
            + app(f"ns-{t}", f"api-{t}", f"10.5.6.{i}", t)
            for i, t in enumerate(("t1", "t2", "t3"), start=1)}


def test_unchanged_tenants_are_reused_and_a_moved_pod_is_seen(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", three_tenants())
    cache = tmp_path / "cache"
    first = check(root, cache)
    assert first.tenant_builds_reused == 0
    write(root, three_tenants(t2=("10.244.1.5", "10.244.2.77")))  # one pod of t2 moved
    second = check(root, cache)
    assert second.tenant_builds_reused == 2  # t1 and t3; t2 read the changed Endpoints
    assert second.tenant_hits == 3  # their AS3 JSON came from the cache too, and the empty k8s tenant's
    assert second.ingress_pieces_reused == 1  # in t2, api-t2 came from t2's pieces; web-t2 was built
    assert second.objects_reused == 2  # and api-t2's virtual server and pool kept their JSON
    assert "10.244.2.77" in dump_json(warm(root, cache)[0].as3).decode()


def test_tenants_asking_for_one_address_are_built_in_the_global_order(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    apps = three_tenants()
    apps["t3"] = app("ns-t3", "web-t3", "10.5.5.1", "t3")  # t1's address: the first Ingress in order wins
    root = write(tmp_path / "repo", apps)
    check(root, tmp_path / "cache")
    check(root, tmp_path / "cache")
    assert any(f.code == "ING012" for f in render(root).findings)
    # the guard matters: composed without it, both tenants would get the address
    monkeypatch.setattr(tenant_reuse, "_meet", lambda built: False)
    got, _ = warm(root, tmp_path / "other")
    assert outcome(got) != outcome(render(root))


def test_a_build_that_strays_into_another_tenant_is_not_composed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With a grouping that guesses every tenant wrong, each group's build touches tenants not its
    own: the parts are refused and the global build runs."""
    from renderer.mapping import ingress

    monkeypatch.setattr(ingress, "PARTITION", "example.com/no-such-annotation")
    root = write(tmp_path / "repo", three_tenants())
    for _ in range(2):
        disk = check(root, tmp_path / "cache")
        assert disk.tenant_builds_reused == 0


def test_a_tenant_with_findings_or_a_certificate_is_built_every_time(tmp_path: Path) -> None:
    apps = three_tenants()
    apps["t1"] += app("ns-t1", "tls-t1", "10.5.7.1", "t1", tls=True)
    apps["t2"] = apps["t2"].replace("name: api-t2, port", "name: no-such-service, port")  # ING020
    root = write(tmp_path / "repo", apps)
    check(root, tmp_path / "cache")
    disk = check(root, tmp_path / "cache")
    assert disk.tenant_builds_reused == 1  # t3 only
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            assert b"a2V5" not in f.read_bytes() and b"PRIVATE KEY" not in f.read_bytes()


def test_nodeport_members_read_every_node(tmp_path: Path) -> None:
    config = "bigip:\n  partition: k8s\n  poolMemberType: nodeport\n"
    apps = {t: text.replace("ports: [{name: http, port: 80}]", "type: NodePort\n  ports: [{name: http, port: 80, "
                            "nodePort: 30080}]") for t, text in three_tenants().items()}
    nodes = NODES.replace("spec: {podCIDR", "status: {addresses: [{type: InternalIP, address: 192.168.1.1X}]}\n"
                          "spec: {podCIDR")
    nodes = nodes.replace("1X", "11", 1).replace("1X", "12", 1)
    root = write(tmp_path / "repo", apps, config, nodes)
    check(root, tmp_path / "cache")
    more = nodes + node("n3", "aa:bb:cc:00:00:03", "192.168.1.13", "10.244.3.0/24",
                        "status: {addresses: [{type: InternalIP, address: 192.168.1.13}]}\n")
    write(root, apps, config, more)
    disk = check(root, tmp_path / "cache")
    assert disk.tenant_builds_reused == 0  # every tenant's pools list every node
    assert "192.168.1.13" in dump_json(render(root).as3).decode()


CALLED: list[str] = []


def _planted() -> None:  # what a tampered entry would run on load; it must never be called
    CALLED.append("ran")


class _Planted:
    def __reduce__(self) -> tuple[Any, ...]:
        return (_planted, ())


def _drop_entries(cache: Path, kind: str) -> int:
    """Delete the cache entries whose key starts with `kind`; how many there were."""
    from renderer.cache import MAGIC

    dropped = 0
    for file in (p for p in cache.rglob("*") if p.is_file()):
        blob = file.read_bytes()
        size = int.from_bytes(blob[len(MAGIC) + 32:len(MAGIC) + 36], "big")
        if blob[len(MAGIC) + 36:len(MAGIC) + 36 + size].startswith(kind.encode()):
            file.unlink()
            dropped += 1
    return dropped


def test_an_entry_naming_other_code_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored model that names other code never runs it. It is read only when a stage needs the
    tenant's objects (its facts answer the others: renderer.mapping.tenant_facts); then it is
    refused and the render starts again without reuse, with the same output."""
    root = write(tmp_path / "repo", three_tenants())
    real = tenant_reuse.dumps
    monkeypatch.setattr(tenant_reuse, "dumps", lambda tenant, known: pickle.dumps(_Planted()))
    check(root, tmp_path / "cache")
    monkeypatch.setattr(tenant_reuse, "dumps", real)
    write(root, three_tenants(t2=("10.244.1.5", "10.244.2.77")))  # a new render (not the memo's)
    disk = check(root, tmp_path / "cache")  # t1 and t3 reused, their JSON from the cache: never loaded
    assert CALLED == [] and disk.tenant_builds_reused == 2 and disk.reuse_restarts == 0
    assert _drop_entries(tmp_path / "cache", "as3-tenant") > 0  # now their emit needs their objects
    write(root, three_tenants(t2=("10.244.1.5", "10.244.2.78")))
    disk = check(root, tmp_path / "cache")
    assert CALLED == [] and disk.reuse_restarts == 1  # the model refused: rendered again without reuse
    write(root, three_tenants(t2=("10.244.1.5", "10.244.2.79")))
    assert check(root, tmp_path / "cache").tenant_builds_reused == 2  # t1 and t3: rewritten by the run before


def test_a_stored_tenant_loaded_late_gets_what_finish_set(tmp_path: Path) -> None:
    """A reused tenant stays pickled until a stage needs its objects; when its JSON is gone from the
    cache, the emit loads it then, and translate-address (which `Registry.finish` sets after the
    build, so the stored model has the default) is applied on loading: the same output as without
    the cache."""
    apps = three_tenants()
    apps["t1"] = apps["t1"].replace("virtual-server.f5.com/partition: t1}",
                                    "virtual-server.f5.com/partition: t1,\n                "
                                    "virtual-server.f5.com/translate-server-address: 'false'}")
    assert "translate-server-address" in apps["t1"]
    root = write(tmp_path / "repo", apps)
    check(root, tmp_path / "cache")
    assert _drop_entries(tmp_path / "cache", "as3-tenant") > 0
    apps["t2"] = three_tenants(t2=("10.244.1.5", "10.244.2.77"))["t2"]
    write(root, apps)
    disk = check(root, tmp_path / "cache")  # t1 and t3 reused, then loaded for their emit
    assert disk.tenant_builds_reused == 2 and disk.reuse_restarts == 0
    got, _ = warm(root, tmp_path / "cache")
    assert '"translateServerAddress": false' in dump_json(got.as3).decode()


def test_document_markers_are_found_as_yaml_sees_them() -> None:
    """`---`/`...` at column 0 followed by a space, a tab or the line's end; nothing else."""
    import random
    import re

    marker = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.MULTILINE)
    rng = random.Random(7)
    parts = ["---", "--- ", "...", "---x", "a: 1", "  ---", "", "--- {a: 1}", "...\r", "----", "---\t#", "#---"]
    for _ in range(3000):
        text = "\n".join(rng.choice(parts) for _ in range(rng.randint(0, 9)))
        expected = [text.count("\n", 0, m.start()) for m in marker.finditer(text)]
        assert tenant_store._marker_lines(text) == expected, text


def test_list_items_and_a_file_with_a_directive(tmp_path: Path) -> None:
    """Ingresses inside a `kind: List` are keyed item by item; a file with a YAML directive has no
    document digests (a `%TAG` changes what the next document means), so its tenant is built."""
    apps = three_tenants()
    t1 = apps.pop("t1")
    items = "".join("\n  - " + doc.strip().replace("\n", "\n    ")
                    for doc in t1.split("---\n") if doc.strip())
    apps["t1"] = f"apiVersion: v1\nkind: List\nitems:{items}\n"
    apps["t2"] = "%YAML 1.1\n" + apps["t2"]
    root = write(tmp_path / "repo", apps)
    check(root, tmp_path / "cache")
    apps["t3"] = apps["t3"].replace("10.244.2.5", "10.244.2.99")  # a new render, t1 and t2 unchanged
    write(root, apps)
    disk = check(root, tmp_path / "cache")
    assert disk.tenant_builds_reused == 1  # t1 from its List; t2 (directive) and t3 (changed) built


def shared_vip(hosts: tuple[str, ...], ips: tuple[str, ...]) -> dict[str, str]:
    """t1 as three tenants() gives it, plus an Ingress with a host rule per host, on the given
    addresses (CIS merges Ingresses on one address into one virtual server and one policy)."""
    apps = three_tenants()
    for i, (host, ip) in enumerate(zip(hosts, ips, strict=True)):
        apps["t1"] += app("ns-t1", f"host{i}-t1", ip, "t1").replace(
            f"  defaultBackend: {{service: {{name: host{i}-t1, port: {{number: 80}}}}}}",
            f"  rules: [{{host: {host}, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: "
            f"{{name: host{i}-t1, port: {{number: 80}}}}}}}}]}}}}]")
    return apps


APART, SHARED = ("10.5.9.9", "10.5.9.10"), ("10.5.9.9", "10.5.9.9")


def test_ingresses_sharing_an_address_are_built_in_one_pass(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "repo", shared_vip(("a.example.com", "b.example.com"), APART))
    check(root, tmp_path / "cache")  # t1 split into pieces
    write(root, shared_vip(("a.example.com", "b.example.com"), SHARED))  # host1 joins host0's address
    assert check(root, tmp_path / "cache").ingress_pieces_reused > 0  # the pieces meet: one pass
    write(root, shared_vip(("a.example.com", "c.example.com"), SHARED))  # remembered: one pass at once
    disk = check(root, tmp_path / "cache")
    assert disk.ingress_pieces_reused == 0
    assert "c.example.com" in dump_json(render(root).as3).decode()
    # the guard matters: pieces put together although they share a virtual server lose a host's rule
    monkeypatch.setattr(tenant_reuse, "_merge", _merge_without_checks)
    other = write(tmp_path / "other", shared_vip(("a.example.com", "b.example.com"), APART))
    warm(other, tmp_path / "c2")
    got, _ = warm(write(other, shared_vip(("a.example.com", "b.example.com"), SHARED)), tmp_path / "c2")
    assert outcome(got) != outcome(render(other))


def test_a_first_pass_with_ingresses_sharing_an_address_keeps_no_pieces(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", shared_vip(("a.example.com", "b.example.com"), SHARED))
    check(root, tmp_path / "cache")
    write(root, shared_vip(("a.example.com", "c.example.com"), SHARED))
    assert check(root, tmp_path / "cache").ingress_pieces_reused == 0


def _merge_without_checks(tenant: str, pieces: list[Any]) -> Any:
    for piece in pieces:
        piece.names, piece.attempted = frozenset(), set()
    return REAL_MERGE(tenant, pieces)


REAL_MERGE = tenant_reuse._merge


def test_an_unrecorded_read_gives_up_the_tenant_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that asks the cluster for a table no read is recorded of: the global build runs."""
    from renderer.mapping import ingress

    real = ingress._build_one

    def curious(ing: Any, cluster: Any, *args: Any) -> None:
        _ = cluster.configmaps  # not a recorded table
        real(ing, cluster, *args)

    monkeypatch.setattr(ingress, "_build_one", curious)
    root = write(tmp_path / "repo", three_tenants())
    disk = check(root, tmp_path / "cache")
    assert disk.tenant_builds_reused == 0


GOLDEN = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("case", [*GOLDEN, EXAMPLES / "hello-world", EXAMPLES / "custom-resources"],
                         ids=lambda p: p.name)
def test_every_golden_case_renders_alike_through_the_reuse(case: Path, tmp_path: Path) -> None:
    """Each golden case and example, copied: a render into an empty cache, then one after the last
    document of every manifest file changed (a comment line): both equal a render without the cache."""
    import shutil

    root = tmp_path / "case"
    shutil.copytree(case, root, ignore=shutil.ignore_patterns("expected"))
    check(root, tmp_path / "cache")
    for f in sorted(root.rglob("*.yaml")):
        if f.name != "as3-gitops.yaml":
            f.write_text(f.read_text() + "\n# edited\n")
    check(root, tmp_path / "cache")


def test_nothing_of_a_secret_reaches_the_cache_not_even_its_digest(tmp_path: Path) -> None:
    """A document digest of a Secret would let a weak password be guessed offline: a file holding a
    Secret keeps no digests, and a tenant whose build read a Secret is not stored."""
    from renderer.kube.load import load_cluster
    from renderer.source import parse_file

    apps = three_tenants()
    apps["t1"] += app("ns-t1", "tls-t1", "10.5.7.1", "t1", tls=True)
    root = write(tmp_path / "repo", apps)
    check(root, tmp_path / "cache")
    apps["t2"] = apps["t2"].replace("10.244.2.5", "10.244.2.66")
    check(write(root, apps), tmp_path / "cache")
    path = root / "manifests" / "t1.yaml"
    _, docs, _ = parse_file(str(path.relative_to(root)), path.read_bytes())
    cluster, _ = load_cluster(docs)
    digests = tenant_store.Digests()
    secret = digests.meta(next(iter(cluster.secrets.values())).meta)
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            assert secret not in f.read_bytes(), f


def routed(ns: str, name: str, ip: str, tenant: str, hosts: tuple[str, ...], port: int = 80) -> str:
    """`app` with host rules (a policy whose rules the emit sorts) instead of a default backend."""
    rules = "".join(f"""
    - host: {host}
      http:
        paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: {name}, port: {{number: 80}}}}}}}}]"""
                    for host in hosts)
    head = app(ns, name, ip, tenant).split("spec:\n  defaultBackend")[0]
    return head.replace(f"virtual-server.f5.com/partition: {tenant}}}",
                        f"virtual-server.f5.com/partition: {tenant}, virtual-server.f5.com/http-port: '{port}'}}") \
        + f"spec:\n  rules:{rules}\n"


def test_a_changed_tenant_renders_only_its_changed_ingress(tmp_path: Path) -> None:
    """One Ingress of a tenant edited: the others' objects keep their JSON from the tenant's last
    build (renderer.emit_reuse), policies with sorted rules included, and the output is the same."""
    apps = {f"a{i}": routed("ns", f"app{i}", f"10.6.6.{i}", "t1", (f"z{i}.example.com", f"a{i}.example.com"))
            for i in range(4)}
    root = write(tmp_path / "repo", apps)
    cache = tmp_path / "cache"
    assert check(root, cache).objects_reused == 0
    apps["a2"] = routed("ns", "app2", "10.6.6.2", "t1", ("b2.example.com",), port=8080)
    write(root, apps)
    got, disk = warm(root, cache)
    assert "t1" in tenant_keys(got.as3["declaration"], kept=True)  # the assembled tenant is stored under its key
    assert outcome(got) == outcome(render(root))
    assert disk.ingress_pieces_reused == 3
    assert disk.objects_reused >= 9  # three Ingresses' virtual server, pool and policy


def test_a_changed_tenant_whose_earlier_json_is_gone_is_rendered_whole(tmp_path: Path) -> None:
    apps = {f"a{i}": routed("ns", f"app{i}", f"10.6.7.{i}", "t1", (f"h{i}.example.com",)) for i in range(3)}
    root = write(tmp_path / "repo", apps)
    cache = tmp_path / "cache"
    first, disk = warm(root, cache)
    assert first.ok
    for entry in disk.dir.rglob("*"):  # every AS3 tenant's JSON lost (the builds and their pieces stay)
        if entry.is_file() and b"as3-tenant" in entry.read_bytes()[:600]:
            entry.write_bytes(b"damaged")
    apps["a0"] = routed("ns", "app0", "10.6.7.0", "t1", ("other.example.com",))
    write(root, apps)
    disk = check(root, cache)
    assert disk.ingress_pieces_reused == 2 and disk.objects_reused == 0
