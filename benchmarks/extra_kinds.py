"""The `all` mix's other input kinds as text: CIS AS3 ConfigMaps and OpenShift Routes.

Kept apart from generate.py (which decides which index becomes which kind) so each writer stays a
plain function of names and addresses. Formats follow the README ("AS3 ConfigMaps", "OpenShift
Routes") and CIS's examples: an AS3 ConfigMap is labelled `f5type: virtual-server` and `as3: "true"`
and carries an AS3 request in `data.template`, whose pools with `"serverAddresses": []` are filled by
service discovery from the Services labelled `cis.f5.com/as3-tenant`, `-app`, `-pool`; a Route
(`route.openshift.io/v1`) goes to the shared `ose_vserver` at `bigip.routeVirtualAddress`.
"""

from __future__ import annotations

from dataclasses import dataclass

ROUTE_VIRTUAL_ADDRESS = "172.31.255.254"  # outside every generated VIP (172.16.x.y up to 64k resources)
AS3_POOL = "pool"


@dataclass(frozen=True)
class As3App:
    """One Application of an AS3 ConfigMap: a virtual on `vip`:80 and one discovered pool."""

    name: str  # the AS3 Application (and, in the Service's label, cis.f5.com/as3-app)
    vip: str
    balance: str
    host: str


def as3_tenant(namespace: str) -> str:
    """The AS3 ConfigMap's tenant for a namespace: one team, one tenant (`team-0003` -> `as3_team_0003`)."""
    return "as3_" + namespace.replace("-", "_")


def as3_app_name(app: str) -> str:
    """`app-00009` -> `app_00009` (AS3 names take no `-` at the start and read better without)."""
    return app.replace("-", "_")


def discovery_labels(tenant: str, app: str) -> str:
    """The Service labels that bind it to the ConfigMap's pool (indented for a Service's metadata.labels)."""
    return (f"    cis.f5.com/as3-tenant: {tenant}\n"
            f"    cis.f5.com/as3-app: {app}\n"
            f"    cis.f5.com/as3-pool: {AS3_POOL}\n")


def _application(app: As3App) -> str:
    send = f"GET / HTTP/1.1\\r\\nHost: {app.host}\\r\\nConnection: close\\r\\n\\r\\n"
    return f"""\
          "{app.name}": {{
            "class": "Application",
            "template": "generic",
            "vs": {{
              "class": "Service_HTTP",
              "virtualAddresses": ["{app.vip}"],
              "virtualPort": 80,
              "pool": "{AS3_POOL}"
            }},
            "{AS3_POOL}": {{
              "class": "Pool",
              "loadBalancingMode": "{app.balance}",
              "monitors": [{{"use": "monitor"}}],
              "members": [
                {{"servicePort": 80, "serverAddresses": []}}
              ]
            }},
            "monitor": {{
              "class": "Monitor",
              "monitorType": "http",
              "send": "{send}",
              "receive": "200 OK",
              "interval": 5,
              "timeout": 16
            }}
          }}"""


def as3_configmap_yaml(namespace: str, apps: list[As3App]) -> str:
    """One team's AS3 ConfigMap: tenant `as3_<namespace>` with one Application per app, in `data.template`."""
    tenant = as3_tenant(namespace)
    applications = ",\n".join(_application(app) for app in apps)
    return f"""\
kind: ConfigMap
apiVersion: v1
metadata:
  name: as3-{namespace}
  namespace: {namespace}
  labels:
    f5type: virtual-server
    as3: "true"
data:
  template: |
    {{
      "class": "AS3",
      "action": "deploy",
      "persist": true,
      "declaration": {{
        "class": "ADC",
        "schemaVersion": "3.56.0",
        "id": "{tenant}",
        "{tenant}": {{
          "class": "Tenant",
{applications}
        }}
      }}
    }}
"""


def route_yaml(name: str, namespace: str, service: str, host: str, balance: str, health: str) -> str:
    """A plain-HTTP Route to `service` port `http`, with the balance and health annotations Routes read."""
    return f"""\
apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/part-of: benchmark
  annotations:
    virtual-server.f5.com/balance: {balance}
    virtual-server.f5.com/health: |
      {health}
spec:
  host: {host}
  to:
    kind: Service
    name: {service}
    weight: 100
  port:
    targetPort: http
"""
