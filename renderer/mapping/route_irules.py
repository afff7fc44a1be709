"""The iRules of the Route virtuals (our own TCL, doing what CIS's iRules of the same names do).

`openshift_passthrough_irule` has a part per kind of Route that needs it, and only those parts: each
names its data group literally, and BIG-IP checks the objects an iRule names literally when it saves
it, so a part whose data group is not declared would make the declaration fail on the device.
With passthrough Routes it reads the SNI of the TLS ClientHello before the client-SSL profile runs: a
host in `ssl_passthrough_servername_dg` is sent to its pool still encrypted (SSL and HTTP disabled);
every other connection is terminated here and routed by the secure policy. With reencrypt Routes it
picks the server-SSL profile per host and path (`ssl_reencrypt_serverssl_dg`), and turns the server
side off for edge Routes. Edge Routes alone need no iRule (the secure policy routes them).
`ab_deployment_path_irule` spreads requests over a Route's backends by weight (`ab_deployment_dg`:
`host+path` -> `pool,weight;pool,weight`); a passthrough Route's connections are spread by the SNI
part, from the same data group.
"""

from __future__ import annotations


def passthrough(partition: str, *, passthrough: bool, reencrypt: bool, ab: bool = False) -> str:
    """The iRule text; `passthrough` / `reencrypt`: whether such Routes (and so their data groups) exist;
    `ab`: a passthrough Route has alternate backends (in `ab_deployment_dg`, keyed by its host)."""
    dg = f"/{partition}/Shared"
    lines = [
        "# Passthrough Routes by SNI; edge and reencrypt Routes are terminated here.",
        "when CLIENT_ACCEPTED {",
        "    set passthrough 0",
        "    set serverssl \"\"",
        *(["    TCP::collect"] if passthrough else []),
        "}",
    ]
    if passthrough:
        lines += _sni_lines(dg, ab)
    if reencrypt:
        lines += [
            "when HTTP_REQUEST {",
            "    set key \"[string tolower [getfield [HTTP::host] \":\" 1]][HTTP::path]\"",
            f"    set serverssl [class match -value -- $key starts_with {dg}/ssl_reencrypt_serverssl_dg]",
            "}",
            "when SERVER_CONNECTED {",
            "    if { $serverssl eq \"\" } {",
            "        SSL::disable serverside",
            "    } else {",
            "        SSL::profile $serverssl",
            "    }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def _sni_lines(dg: str, ab: bool) -> list[str]:
    # the A/B records are host + path, and a passthrough Route has no path: "<host>/"
    weighted = [f"        set ab [class match -value -- \"[string tolower $sni]/\" equals {dg}/ab_deployment_dg]",
                *_weighted_pick("        ")] if ab else []
    return [
        "when CLIENT_DATA {",
        "    set sni \"\"",
        "    set data [TCP::payload]",
        "    # TLS record 22 (handshake) holding a ClientHello (1): skip headers, random, session id,",
        "    # cipher suites and compression methods, then walk the extensions to server_name (0)",
        "    if { [binary scan $data cx4c rtype htype] == 2 && $rtype == 22 && $htype == 1 } {",
        "        set at 43",
        "        if { [binary scan $data @${at}c len] == 1 } { set at [expr {$at + 1 + ($len & 0xff)}] }",
        "        if { [binary scan $data @${at}S len] == 1 } { set at [expr {$at + 2 + ($len & 0xffff)}] }",
        "        if { [binary scan $data @${at}c len] == 1 } { set at [expr {$at + 1 + ($len & 0xff)}] }",
        "        if { [binary scan $data @${at}S len] == 1 } {",
        "            set end [expr {$at + 2 + ($len & 0xffff)}]",
        "            set at [expr {$at + 2}]",
        "            while { $at + 4 <= $end && [binary scan $data @${at}SS etype elen] == 2 } {",
        "                set elen [expr {$elen & 0xffff}]",
        "                if { ($etype & 0xffff) == 0 } {",
        "                    if { [binary scan $data @[expr {$at + 7}]S nlen] == 1 } {",
        "                        binary scan $data @[expr {$at + 9}]a[expr {$nlen & 0xffff}] sni",
        "                    }",
        "                    break",
        "                }",
        "                set at [expr {$at + 4 + $elen}]",
        "            }",
        "        }",
        "    }",
        f"    set pool [class match -value -- [string tolower $sni] equals {dg}/ssl_passthrough_servername_dg]",
        "    if { $pool ne \"\" } {",
        "        set passthrough 1",
        "        SSL::disable clientside",
        "        HTTP::disable",
        "        pool $pool",
        *weighted,
        "    }",
        "    TCP::release",
        "}",
    ]


def _weighted_pick(indent: str) -> list[str]:
    """TCL sending the connection to one of the pools in `$ab` (`pool,weight;...`), in proportion to the weights."""
    return [indent + line for line in [
        "if { $ab ne \"\" } {",
        "    set total 0",
        "    foreach entry [split $ab \";\"] { incr total [lindex [split $entry \",\"] 1] }",
        "    if { $total > 0 } {",
        "        set pick [expr {int(rand() * $total)}]",
        "        foreach entry [split $ab \";\"] {",
        "            set weight [lindex [split $entry \",\"] 1]",
        "            if { $pick < $weight } {",
        "                pool [lindex [split $entry \",\"] 0]",
        "                break",
        "            }",
        "            incr pick -$weight",
        "        }",
        "    }",
        "}",
    ]]


def ab_deployment(partition: str) -> str:
    return "\n".join([
        "# A/B Routes: pick one of the Route's pools at random, in proportion to the weights.",
        "when HTTP_REQUEST {",
        "    set key \"[string tolower [getfield [HTTP::host] \":\" 1]][HTTP::path]\"",
        f"    set ab [class match -value -- $key starts_with /{partition}/Shared/ab_deployment_dg]",
        *_weighted_pick("    "),
        "}",
    ]) + "\n"
