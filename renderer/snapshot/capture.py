"""List Nodes, Endpoints and EndpointSlices from the Kubernetes API (official `kubernetes` client).

The client is an optional extra (`as3-gitops[cluster]`): rendering never needs it, and users who
prefer kubectl use `snapshot normalize`. Responses are read as raw JSON (`_preload_content=False`)
rather than model objects: the raw shape is what kubectl prints, so both paths share one normalizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from renderer.errors import DeviceError, UsageError
from renderer.source import Document, SourceFile

PAGE_SIZE = 500
TIMEOUT_S = 30
MISSING_CLIENT_HINT = ("pip install 'as3-gitops[cluster]' (or pipe `kubectl get nodes,endpoints,endpointslices "
                       "-A -o yaml` into `as3-gitops snapshot normalize -`)")


class ClusterError(DeviceError):
    """The Kubernetes API could not be reached or refused a list; nothing was written (exit 3)."""


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach the API: a kubeconfig (path or None for the client's default), or in-cluster."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False


def _kubernetes():
    try:
        import kubernetes  # noqa: F401
        from kubernetes import client, config
    except ImportError as err:
        raise UsageError("`snapshot capture` needs the kubernetes Python client, which is not installed",
                         hint=MISSING_CLIENT_HINT) from err
    return client, config


def api_client(access: ClusterAccess) -> Any:
    """An ApiClient for `access`; a bad kubeconfig or unknown context is a usage error (exit 2)."""
    client, config = _kubernetes()
    try:
        if access.in_cluster:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        return config.new_client_from_config(config_file=access.kubeconfig, context=access.context)
    except (config.ConfigException, OSError, ValueError) as err:
        where = "in-cluster service account" if access.in_cluster else (access.kubeconfig or "default kubeconfig")
        raise UsageError(f"cannot load Kubernetes credentials from {where}: {err}",
                         hint="check --kubeconfig and --context (kubectl config get-contexts)") from err


@dataclass(frozen=True)
class _Listing:
    path: str  # for messages and document labels
    kind: str
    api_version: str
    method: str  # name on the API class
    namespaced: bool


def _listings(namespaces: tuple[str, ...] | None) -> list[tuple[_Listing, str | None]]:
    out: list[tuple[_Listing, str | None]] = [
        (_Listing("/api/v1/nodes", "Node", "v1", "list_node", False), None)]
    if namespaces is None:
        out += [
            (_Listing("/api/v1/endpoints", "Endpoints", "v1", "list_endpoints_for_all_namespaces", False), None),
            (_Listing("/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice", "discovery.k8s.io/v1",
                      "list_endpoint_slice_for_all_namespaces", False), None),
        ]
    else:
        for ns in sorted(set(namespaces)):
            out += [
                (_Listing(f"/api/v1/namespaces/{ns}/endpoints", "Endpoints", "v1",
                          "list_namespaced_endpoints", True), ns),
                (_Listing(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", "EndpointSlice",
                          "discovery.k8s.io/v1", "list_namespaced_endpoint_slice", True), ns),
            ]
    return out


def _page(api: Any, listing: _Listing, namespace: str | None, token: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"limit": PAGE_SIZE, "_preload_content": False, "_request_timeout": TIMEOUT_S}
    if token:
        kwargs["_continue"] = token
    method = getattr(api, listing.method)
    response = method(namespace, **kwargs) if listing.namespaced else method(**kwargs)
    try:
        body = json.loads(response.data)
    except ValueError as err:
        raise ClusterError(f"GET {listing.path}: the API answered with something that is not JSON") from err
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise ClusterError(f"GET {listing.path}: the answer is not a {listing.kind} list")
    return body


def fetch(access: ClusterAccess, namespaces: tuple[str, ...] | None = None) -> tuple[list[Document], str]:
    """Every Node, and the Endpoints/EndpointSlices of `namespaces` (None: all), as documents.

    Returns the documents and a short description of the source for the commit message.
    """
    client, _config = _kubernetes()
    import urllib3

    api_client_ = api_client(access)
    core = client.CoreV1Api(api_client_)
    discovery = client.DiscoveryV1Api(api_client_)
    documents: list[Document] = []
    try:
        for listing, namespace in _listings(namespaces):
            api = discovery if listing.kind == "EndpointSlice" else core
            token: str | None = None
            while True:
                try:
                    body = _page(api, listing, namespace, token)
                except client.exceptions.ApiException as err:
                    raise ClusterError(f"GET {listing.path}: {err.status} {err.reason}".rstrip(),
                                       hint=_api_hint(err.status)) from err
                except urllib3.exceptions.HTTPError as err:
                    host = api_client_.configuration.host
                    raise ClusterError(f"cannot reach the Kubernetes API at {host}: {type(err).__name__}",
                                       hint="check the kubeconfig's server address and the network") from err
                for item in body["items"]:
                    if isinstance(item, dict):  # list items carry no kind/apiVersion of their own
                        item.setdefault("kind", listing.kind)
                        item.setdefault("apiVersion", listing.api_version)
                label = f"cluster:{listing.path}"
                documents.append(Document(SourceFile(label, ""), len(documents), 1, body))
                token = (body.get("metadata") or {}).get("continue") or None
                if not token:
                    break
    finally:
        api_client_.close()
    if access.in_cluster:
        source = "the in-cluster API"
    else:
        source = f"kube context {access.context!r}" if access.context else "the current kube context"
    return documents, source


def _api_hint(status: int | None) -> str | None:
    if status in (401, 403):
        return "the account needs get/list on nodes, endpoints and endpointslices (see examples/snapshot-cronjob)"
    if status == 404:
        return "the API does not serve this list (discovery.k8s.io/v1 needs Kubernetes 1.21 or newer)"
    return None
