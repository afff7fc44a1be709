"""Preflight reads and the lease: what the device runs, which tenants are ours, and whether it drifted.

The device's stored declaration names the commit it runs (`remark`). Rendering that commit from
git and comparing it with the device tells a change made outside git (drift) from a change we
are about to make. Pure on its inputs except `read_device`, which only reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renderer.bigip import netstate as ns
from renderer.bigip import tenants as tn
from renderer.bigip.client import BigipClient
from renderer.bigip.journal import Intent, out_of_bounds
from renderer.errors import DeviceError


@dataclass(frozen=True)
class Rendered:
    """What a commit renders to (the parts the plan needs)."""

    identity: str
    as3: dict[str, Any] | None
    net: dict[str, Any] | None


@dataclass(frozen=True)
class DeployOptions:
    dry_run: bool = False
    force: bool = False
    timeout: float = 900.0
    rollback_timeout: float = 300.0
    persist: bool = True
    lock_timeout: float = 300.0  # wait this long for another deploy's device lock
    lock_ttl: float = 120.0  # expiry of our lock, renewed every ttl/4
    break_lock: bool = False  # take over the device lock even if it has not expired


class DriftDetected(DeviceError):
    """The device differs from the commit it claims to run (changed outside git)."""

    def __init__(self, message: str, *, lease: Rendered | None, device: DeviceState, hint: str):
        super().__init__(message, hint=hint)
        self.lease = lease
        self.device = device


@dataclass(frozen=True)
class DeviceState:
    """The owned part of the device: its stored ADC (tenants we own only) and our net objects."""

    adc: dict[str, Any] | None
    owned: tuple[str, ...]
    net: ns.NetState
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def tenants(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in tn.tenants_of(self.adc).items() if k in self.owned}

    def owned_adc(self) -> dict[str, Any]:
        """The device's declaration restricted to our tenants, as the diff engine's old/new side."""
        return {
            **tn.header_of(self.adc),
            **{k: tn.normalise(v) or {"class": "Tenant"} for k, v in self.tenants.items()},
        }

    def hash(self) -> str:
        return tn.state_hash(self.tenants, self.net.as_dict())


def read_device(client: BigipClient, new: Rendered) -> DeviceState:
    """Preflight reads: AS3 version, the stored declaration with lock keys, the net state."""
    info = client.as3_info()
    want = str((tn.adc_of(new.as3) or {}).get("schemaVersion", "3.0.0"))
    have = str(info.get("schemaCurrent") or info.get("version") or "0")
    if _version(have) < _version(want):
        raise DeviceError(
            f"AS3 on the device supports schemaVersion up to {have}; the declaration needs {want}",
            hint="upgrade AS3 on the BIG-IP or lower bigip.schemaVersion in as3-gitops.yaml",
        )
    adc = client.get_declaration()
    owned = tuple(tn.owned_tenants(tn.adc_of(new.as3), adc))
    net = ns.read_state(client, ns.desired_state(new.net))
    return DeviceState(adc, owned, net, info)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3] if p.isdigit())


def drift_of(device: DeviceState, lease: Rendered) -> list[str]:
    """Owned tenants and net parts where the device differs from what `lease` renders."""
    lease_adc = tn.adc_of(lease.as3)
    out = [f"tenant {t}" for t in tn.changed_tenants(list(device.owned), device.adc, lease_adc)]
    want = ns.desired_state(lease.net)
    have = device.net
    for label, a, b in (
        ("VXLAN profile", have.profile, want.profile),
        ("tunnel", have.tunnel, want.tunnel),
        ("self IP", have.self_ip, want.self_ip),
        ("floating self IP", have.floating_ip, want.floating_ip),
        ("FDB records", have.records, want.records),
        ("ARPs", have.arps, want.arps),
        ("routes", have.routes, want.routes),
    ):
        if a != b:
            out.append(label)
    return out


def check_lease(
    device: DeviceState, new: Rendered, render_commit: Callable[[str], Rendered | None], force: bool
) -> tuple[str | None, list[str]]:
    """Step 2: the device must run what git says it runs. Returns (device commit, drift forced over)."""
    commit = tn.device_commit(device.adc)
    if commit is None:
        used = [t for t, body in device.tenants.items() if tn.normalise(body) is not None]
        if used and not force:
            raise DriftDetected(
                f"the device was not deployed by as3-gitops and tenant(s) {', '.join(used)} are in use",
                lease=None,
                device=device,
                hint="review the device, then adopt it with --force",
            )
        return None, [f"adopted tenant {t}" for t in used]
    if commit == tn.WORKING_TREE:
        # A working-tree deploy cannot be re-rendered: accept it only when the device already
        # equals this render (nothing would be overwritten), otherwise ask for --force.
        if not drift_of(device, new) or force:
            return commit, ["unverifiable working-tree lease"] if force else []
        raise DriftDetected(
            "the device runs a working-tree deploy, which cannot be checked against git",
            lease=None,
            device=device,
            hint="review what would change with `as3-gitops plan`, then deploy with --force to overwrite it "
            "(a deploy of a clean checkout or of a commit records the commit and avoids this next time)",
        )
    lease = new if commit == new.identity else render_commit(commit)
    if lease is None:
        if force:
            return commit, [f"unverifiable lease {commit}"]
        raise DriftDetected(
            f"the device runs {commit}, which cannot be rendered from this repository",
            lease=None,
            device=device,
            hint="fetch the full history (fetch-depth: 0) or deploy with --force",
        )
    drift = drift_of(device, lease)
    if drift and not force:
        raise DriftDetected(
            f"the device differs from commit {commit} it was deployed from: {', '.join(drift)}",
            lease=lease,
            device=device,
            hint="someone changed the device outside git; review the diff, then deploy with --force to overwrite it",
        )
    return commit, drift


def check_intent(
    device: DeviceState, new: Rendered, render_commit: Callable[[str], Rendered | None], intent: Intent, force: bool
) -> tuple[str, list[str]]:
    """The lease when a deploy was interrupted: every owned object must be in the version of one of
    the intent's commits (or of the one we deploy now). Returns (what was found, drift forced over)."""
    sides: list[tuple[str, Rendered]] = []
    unknown: list[str] = []
    for commit in intent.commits():
        side = new if commit == new.identity else render_commit(commit) if commit != tn.WORKING_TREE else None
        if side is None:
            unknown.append(commit)
        else:
            sides.append((commit, side))
    if all(c != new.identity for c, _ in sides):
        sides.append((new.identity, new))
    bounds = [(tn.adc_of(r.as3), ns.desired_state(r.net)) for _, r in sides]
    outside = out_of_bounds(device.owned, device.adc, device.net, bounds)
    at = [c for c, r in sides if not drift_of(device, r)]
    where = f"the device equals {at[0]}" if at else "the device is between " + " and ".join(c for c, _ in sides)
    if device.hash() == intent.pre_hash:
        where += " (the interrupted deploy had changed nothing)"
    found = f"found {intent.describe()}: {where}"
    if outside and not force:
        cannot = f"; {', '.join(unknown)} cannot be rendered from this repository" if unknown else ""
        raise DriftDetected(
            f"{found}, but {', '.join(outside)} match(es) none of those commits{cannot}",
            lease=None,
            device=device,
            hint="someone changed the device outside git; review it, then deploy with --force to overwrite it",
        )
    return found, [f"{o} (outside the interrupted deploy)" for o in outside] if force else []
