"""renderer.net spells an ARP's name inline: it must stay `arp_name` (deploy and diff match ARPs by it)."""

from __future__ import annotations

from test_network import TWO_NODES, render_repo

from renderer.mapping.names import arp_name


def test_arp_names_are_arp_name(tmp_path) -> None:
    result = render_repo(tmp_path, TWO_NODES)
    assert result.ok
    arps = result.net["arps"]
    assert [a["ipAddress"] for a in arps] == ["10.244.1.5", "10.244.2.5"]
    assert [a["name"] for a in arps] == [arp_name(a["ipAddress"]) for a in arps]
    assert list(result.sources).index("/net/arps/10.244.1.5") < list(result.sources).index("/net/arps/10.244.2.5")
    assert [(o.kind, o.name) for o in result.sources["/net/arps/10.244.2.5"]] == [("Service", "app"), ("Node", "n2")]
