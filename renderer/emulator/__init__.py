"""A stateful BIG-IP emulator (AS3 + iControl REST) for tests and trial runs on 127.0.0.1.

It reproduces, on the wire, what `/work/shared/reference/bigip-wire.md` documents (sections 2, 3
and the checklist in 5): basic and token auth; AS3 `/declare` (sync, async, auto-async after a
configurable threshold, per-tenant serial apply with 200/207/422, history, dry-run, PATCH,
DELETE, the global-lock 503, optional validation with the official schema); task records;
VXLAN profiles, tunnels, self IPs, FDB tunnels and static ARPs; transactions (all or none).
Tests reach it through `renderer.emulator.pytest_plugin`; users through
`as3-gitops emulator`.

Module map: `server` (HTTP/TLS threads) -> `device` (dispatch, log, persistence) -> `auth`,
`as3` (routing, async) -> `declare` (wrapper, coherence, lock, actions) -> `apply` (tenants,
history, GET views) with `traces` and `jsonpatch`; `tasks`; `net`; `transactions`; `faults`;
`control` (/_emulator/); `state` (JSON form, atomic file); `clock` (injectable time).

Unconfirmed on a real device (tagged [mem] in the reference; implemented as documented there):
- the restjavad error envelope `{"code","message","referer","restOperationId","kind":":resterrorresponse"}`
  used for 401 answers;
- 409 on create of an existing object, `01020066:3: The requested <kind> (<path>) already exists in
  partition <P>.`;
- a failed commit leaves the transaction in state `FAILED` with `failureReason`;
- an uncommitted transaction is deleted silently after `timeoutSeconds` (120 s, counted from its
  last enlisted command) and a later commit gets 404;
- `"asyncExecution": true` on commit: the emulator commits at once, so a following GET sees the
  final state (a real device may answer before it finishes);
- `PATCH {"records": []}` clears an FDB tunnel like `{"records": {}}`;
- the ARP collection lists static entries only (the emulator has no dynamic ARP);
- an FDB tunnel of a tunnel created in the same transaction does not exist until commit, so a
  transaction that creates a tunnel and sets its records fails.

Wording chosen by the emulator where the reference gives none (do not match on it in clients):
401 `Authentication failed.` / `Authorization failed: no user authentication header or token
detected.`; the 404 for a missing history age; the enum message of the AS3 wrapper check; query
checks other than the unrecognized-parameter and async ones; `invalid patch - updateMode must be
selective`; the 400 for a missing patchBody or a declaration with action remove; the token-cap and
token-timeout 400 texts; mcpd-style texts for missing required properties, references to missing
objects, objects still referenced, ARP `ipAddress` changes and FDB records without a MAC; 404 for
unknown transaction ids and unsupported URIs; the Jetty HTML page of the `http-500` fault; the
422 `Invalid request: /declaration: should be object` for a POSTed `null` or other non-object; the
400/413/503 texts of the HTTP limits (server.py) and the data-group texts (ltm.py).

Simplified on purpose: `lineCount`, `runTime` and `traces` come from a stand-in tmsh script (one
line per changed object), not from real tmsh translation; `runTime` is simulated (deterministic).
`Common` gets its second (deletions) pass reported as `no change`. Burst handling, per-application
(`/declare/T/applications`) endpoints, `show=expanded` beyond defaults, service discovery and
`unchecked` drift detection are not emulated. `show=full` needs the AS3 schema (else it equals
`show=base`).
"""

from renderer.emulator.clock import Clock, ManualClock, SystemClock
from renderer.emulator.device import Device, EmulatorConfig
from renderer.emulator.server import BindRefused, EmulatorServer, is_loopback, server_context

__all__ = [
    "BindRefused",
    "Clock",
    "Device",
    "EmulatorConfig",
    "EmulatorServer",
    "ManualClock",
    "SystemClock",
    "is_loopback",
    "server_context",
]
