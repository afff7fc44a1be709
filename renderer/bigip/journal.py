"""The intent journal: what a deploy is about to do, written on the device before its first write.

A deploy can die at any request (a cancelled CI job, OOM, SIGKILL). AS3 applies each tenant on
its own and the network moves in transactions, so a dead deploy leaves every owned object in the
version of one of the commits involved, but not all objects in the same one. Without a record of
that, the next deploy sees a device that matches no commit and refuses ("changed outside git").

So before the first write the deploy (holding the device lock) stores an internal data-group
`/Common/as3-gitops-journal` with: from (the last commit the device fully ran), to (the commit
being deployed), also (targets of earlier unfinished deploys), the pre-state hash, who, when.
It is deleted once the device is verified to equal one commit again. A deploy that finds it
knows the device is somewhere among those commits: it checks that every owned object equals its
version in one of them (anything else is a real change outside git), then converges to the
commit it was asked for, and says what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from renderer.bigip import netstate as ns
from renderer.bigip import tenants as tn
from renderer.bigip.client import BigipClient
from renderer.bigip.devlock import DATA_GROUPS, dg_path
from renderer.errors import DeviceError

JOURNAL = "/Common/as3-gitops-journal"
NONE = "none"  # a record's data for "no commit" (a first deploy has no `from`)


@dataclass(frozen=True)
class Intent:
    from_commit: str | None
    to_commit: str
    pre_hash: str
    also: tuple[str, ...] = ()
    who: str = "?"
    when: str = "?"

    def commits(self) -> list[str]:
        """Every commit whose objects may be on the device, oldest first, no repeats."""
        out: list[str] = []
        for c in (self.from_commit, *self.also, self.to_commit):
            if c and c not in out:
                out.append(c)
        return out

    def describe(self) -> str:
        via = f" (after unfinished deploys of {', '.join(self.also)})" if self.also else ""
        return (f"an unfinished deploy from {self.from_commit or 'nothing'} to {self.to_commit}{via}, "
                f"started {self.when} by {self.who}")

    def body(self) -> dict[str, Any]:
        fields = (("also", ",".join(self.also) or NONE), ("from", self.from_commit or NONE), ("pre", self.pre_hash),
                  ("to", self.to_commit), ("when", self.when), ("who", self.who))
        return {"name": JOURNAL.rsplit("/", 1)[1], "partition": JOURNAL.split("/")[1], "type": "string",
                "description": "as3-gitops intent journal: a deploy in progress (or interrupted)",
                "records": [{"name": k, "data": v} for k, v in fields]}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Intent:
        recs = {str(r.get("name")): str(r.get("data", "")) for r in data.get("records") or [] if isinstance(r, dict)}

        def commit(key: str) -> str | None:
            value = recs.get(key, NONE)
            return None if value in (NONE, "") else value

        also = tuple(c for c in recs.get("also", NONE).split(",") if c and c != NONE)
        return cls(commit("from"), commit("to") or "?", recs.get("pre", ""), also, recs.get("who", "?"),
                   recs.get("when", "?"))


def read_intent(client: BigipClient) -> Intent | None:
    data = client.tm_get(dg_path(JOURNAL))
    return None if data is None else Intent.of(data)


def write_intent(client: BigipClient, intent: Intent, deadline: float) -> None:
    """Create the journal, or replace an older one (we hold the lock, so nobody else writes it)."""
    reply = client.request("POST", DATA_GROUPS, intent.body(), deadline=deadline)
    if reply.status == 409:
        reply = client.request("PUT", dg_path(JOURNAL), intent.body(), deadline=deadline)
    if reply.status != 200:
        raise DeviceError(f"could not write the intent journal {JOURNAL}: HTTP {reply.status} {reply.message()}",
                          hint="the user needs permission to create data-groups in /Common")


def clear_intent(client: BigipClient) -> None:
    reply = client.request("DELETE", dg_path(JOURNAL))
    if reply.status not in (200, 404):
        raise DeviceError(f"could not delete the intent journal {JOURNAL}: HTTP {reply.status} {reply.message()}")


def wait_for_as3(client: BigipClient, deadline: float) -> int:
    """Wait until no AS3 task is running (a dead deploy's async task may still be applying).

    Returns how many tasks were still running at first sight.
    """
    first = None
    attempt = 0
    while True:
        reply = client.request("GET", "/mgmt/shared/appsvcs/task", deadline=deadline)
        items = reply.data.get("items") if reply.status == 200 and isinstance(reply.data, dict) else None
        if not isinstance(items, list):
            raise DeviceError(f"GET /mgmt/shared/appsvcs/task: HTTP {reply.status} {reply.message()}")
        running = sum(1 for item in items if _running(item))
        first = running if first is None else first
        if not running:
            return first
        if client.timing.clock() > deadline:
            raise DeviceError(f"{running} AS3 task(s) of an interrupted deploy still running at the deadline")
        client.timing.sleep(client.timing.backoff(attempt, client.timing.poll_first, client.timing.poll_max))
        attempt += 1


def _running(item: Any) -> bool:
    results = item.get("results") if isinstance(item, dict) else None
    first = results[0] if isinstance(results, list) and results and isinstance(results[0], dict) else {}
    return first.get("code") in (0, None) and first.get("message") in ("in progress", "pending")


def out_of_bounds(owned: tuple[str, ...], adc: dict[str, Any] | None, net: ns.NetState,
                  sides: list[tuple[dict[str, Any] | None, ns.NetState]]) -> list[str]:
    """Owned objects whose device version is in none of `sides` (each an (adc, net state)).

    Tenants are compared whole (AS3 applies a tenant all or nothing); the tunnel, profile and self
    IP whole; FDB records and ARPs one by one (a make-before-break union holds both sides' entries).
    """
    out = []
    device = tn.tenants_of(adc)
    for tenant in owned:
        have = tn.normalise(device.get(tenant))
        if not any(tn.same(have, tn.normalise(tn.tenants_of(side).get(tenant))) for side, _ in sides):
            out.append(f"tenant {tenant}")
    for label, attr in (("VXLAN profile", "profile"), ("tunnel", "tunnel"), ("self IP", "self_ip"),
                        ("floating self IP", "floating_ip")):
        if all(getattr(net, attr) != getattr(state, attr) for _, state in sides):
            out.append(label)
    records = {r for _, state in sides for r in state.records}
    if any(r not in records for r in net.records):
        out.append("FDB records")
    arps = {a for _, state in sides for a in state.arps}
    if any(a not in arps for a in net.arps):
        out.append("ARPs")
    routes = {r for _, state in sides for r in state.routes}
    if any(r not in routes for r in net.routes):
        out.append("routes")
    return out
