"""iRule texts as3-gitops generates (our own TCL): HTTP->HTTPS redirect, TLS passthrough by SNI,
server-side SSL off for edge hosts sharing a virtual with re-encrypted ones."""

from __future__ import annotations


def redirect_irule(partition: str, https_port: int, data_group: str = "https_redirect_dg") -> str:
    """HTTP -> HTTPS for the host/path prefixes of `data_group` (keys `host/path`, `*/path` for any host)."""
    port = "" if https_port == 443 else f":{https_port}"
    return "\n".join([
        f"# Redirect HTTP to HTTPS for the host/path prefixes listed in {data_group}.",
        "when HTTP_REQUEST {",
        "    set host [string tolower [getfield [HTTP::host] \":\" 1]]",
        "    set path [HTTP::path]",
        f"    set dg \"/{partition}/Shared/{data_group}\"",
        "    if { [class match -- \"${host}${path}\" starts_with $dg]",
        "         or [class match -- \"*${path}\" starts_with $dg] } {",
        f"        HTTP::respond 301 Location \"https://${{host}}{port}[HTTP::uri]\"",
        "    }",
        "}",
    ]) + "\n"


def passthrough_irule(partition: str, data_group: str) -> str:
    """Pick the pool from the TLS ClientHello's server name (no decryption): `data_group` maps
    host -> pool name; `*.example.com` style keys are stored as `.example.com` and match any subdomain."""
    return "\n".join([
        f"# TLS passthrough: choose the pool by SNI from {data_group}.",
        "when CLIENT_ACCEPTED {",
        "    TCP::collect",
        "}",
        "when CLIENT_DATA {",
        "    set sni \"\"",
        "    set len [TCP::payload length]",
        "    if { $len > 5 && [binary scan [TCP::payload] cS tls_type tls_version] == 2 && $tls_type == 22 } {",
        "        set offset 43",
        "        binary scan [TCP::payload] @${offset}c sid_len",
        "        set offset [expr {$offset + 1 + ($sid_len & 0xff)}]",
        "        binary scan [TCP::payload] @${offset}S cs_len",
        "        set offset [expr {$offset + 2 + ($cs_len & 0xffff)}]",
        "        binary scan [TCP::payload] @${offset}c cm_len",
        "        set offset [expr {$offset + 1 + ($cm_len & 0xff) + 2}]",
        "        while { $offset + 4 <= $len } {",
        "            binary scan [TCP::payload] @${offset}SS ext_type ext_len",
        "            set ext_len [expr {$ext_len & 0xffff}]",
        "            if { ($ext_type & 0xffff) == 0 } {",
        "                binary scan [TCP::payload] @[expr {$offset + 7}]S name_len",
        "                binary scan [TCP::payload] @[expr {$offset + 9}]a[expr {$name_len & 0xffff}] sni",
        "                break",
        "            }",
        "            set offset [expr {$offset + 4 + $ext_len}]",
        "        }",
        "    }",
        "    set sni [string tolower $sni]",
        f"    set dg \"/{partition}/Shared/{data_group}\"",
        "    set pool [class match -value -- $sni equals $dg]",
        "    if { $pool eq \"\" && [string first \".\" $sni] >= 0 } {",
        "        set pool [class match -value -- [string range $sni [string first \".\" $sni] end] equals $dg]",
        "    }",
        "    if { $pool ne \"\" } {",
        f"        pool \"/{partition}/Shared/$pool\"",
        "    }",
        "    TCP::release",
        "}",
    ]) + "\n"


def edge_serverssl_irule(partition: str, data_group: str) -> str:
    """On a virtual that re-encrypts for some hosts, send plain HTTP to the pools of the edge hosts
    (`data_group` lists `host/path` prefixes whose server side is not TLS)."""
    return "\n".join([
        f"# Server-side TLS off for the edge host/path prefixes listed in {data_group}.",
        "when HTTP_REQUEST {",
        "    set host [string tolower [getfield [HTTP::host] \":\" 1]]",
        f"    if {{ [class match -- \"${{host}}[HTTP::path]\" starts_with \"/{partition}/Shared/{data_group}\"] }} {{",
        "        SSL::disable serverside",
        "    }",
        "}",
    ]) + "\n"
