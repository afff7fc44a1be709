"""Model -> the net declaration (net.json): VXLAN profile, tunnel, self IP, FDB records and ARPs,
or (static-route mode) the `net route` objects to each node's pod subnet.

Our own format (schemas/net.schema.json) using iControl REST field names, so every part maps 1:1
onto a BIG-IP resource. Records are sorted by MAC, ARPs by IP (numerically).
"""

from __future__ import annotations

from itertools import repeat
from operator import add, attrgetter
from typing import Any

from renderer.as3 import Identity
from renderer.config import Config, device_view
from renderer.errors import Origin
from renderer.model import Model, Network, unique_origins, unique_origins_each

NET_SCHEMA_VERSION = "1.0"
ARP_PREFIX = "k8s-"  # arp_name(ip) is ARP_PREFIX + ip
_IP, _ORIGINS = attrgetter("ip"), attrgetter("origins")


def render_net_model(model: Model, config: Config, identity: Identity) -> dict[str, Any]:
    """net.json: one Net declaration, or with several devices one complete Net section per device."""
    if not config.bigip.devices:
        return render_net(model.network, config, identity)
    return {"class": "Net", "schemaVersion": NET_SCHEMA_VERSION, "id": identity.id, "remark": identity.remark,
            "devices": {name: render_net(net, device_view(config, name), identity)
                        for name, net in sorted(model.device_networks.items())}}


def render_net(network: Network, config: Config, identity: Identity) -> dict[str, Any]:
    decl: dict[str, Any] = {
        "class": "Net",
        "schemaVersion": NET_SCHEMA_VERSION,
        "id": identity.id,
        "remark": identity.remark,
        "mode": network.mode,
        "partition": "Common",
        "fdb": {"tunnel": config.vxlan.tunnel if config.vxlan else None, "records": []},
        "arps": [],
    }
    vx = config.vxlan
    if network.mode == "cluster" and network.vxlan and vx is not None:
        decl["vxlanProfile"] = {"name": vx.profile, "port": vx.port, "floodingType": vx.flooding_type}
        decl["tunnel"] = {"name": vx.tunnel, "key": vx.key, "profile": f"/Common/{vx.profile}",
                          "localAddress": vx.local_address}
        decl["selfIP"] = {"name": f"{vx.tunnel}_self", "address": vx.self_ip, "vlan": f"/Common/{vx.tunnel}",
                          "allowService": list(vx.allow_service) if isinstance(vx.allow_service, tuple)
                          else vx.allow_service}
        if vx.floating_self_ip:
            decl["floatingSelfIP"] = {"name": f"{vx.tunnel}_floating", "address": vx.floating_self_ip,
                                      "vlan": f"/Common/{vx.tunnel}", "trafficGroup": vx.traffic_group,
                                      "allowService": decl["selfIP"]["allowService"]}
        decl["fdb"]["records"] = [{"name": r.mac, "endpoint": r.endpoint} for r in network.fdb]
        # arp_name spelled inline (no Python call for each of 100,000 ARPs at 10k Ingresses);
        # tests/render/test_net_render.py holds it to arp_name
        decl["arps"] = [{"name": f"{ARP_PREFIX}{ip}", "ipAddress": ip, "macAddress": a.mac}
                        for a in network.arps for ip in (a.ip,)]
    if network.routes is not None:
        decl["routes"] = {"partition": network.route_partition,
                          "records": [{"name": r.name, "network": r.network, "gw": r.gw,
                                       "description": r.description} for r in network.routes]}
    if decl["fdb"]["tunnel"] is None or not network.vxlan:
        decl["fdb"].pop("tunnel", None)
    return decl


def net_model_sources(model: Model) -> dict[str, tuple[Origin, ...]]:
    """Pointers -> origins; with several devices under `/net/<device>/...` as the diff spells them."""
    if not model.device_networks:
        return net_sources(model.network)
    return {f"/net/{name}{key.removeprefix('/net')}": origins for name, net in model.device_networks.items()
            for key, origins in net_sources(net).items()}


def net_sources(network: Network) -> dict[str, tuple[Origin, ...]]:
    sources: dict[str, tuple[Origin, ...]] = {}
    for r in network.fdb:
        sources[f"/net/fdb/{r.mac}"] = unique_origins(r.origins)
    arps = network.arps
    if arps:  # in C-level passes (100,000 ARPs at 10k Ingresses): see unique_origins_each
        sources.update(zip(map(add, repeat("/net/arps/"), map(_IP, arps)),
                           unique_origins_each(list(map(_ORIGINS, arps))), strict=True))
    for route in network.routes or ():
        sources[f"/net/routes/{route.name}"] = unique_origins(route.origins)
    return sources
