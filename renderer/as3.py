"""Model -> AS3 declaration, through Jinja2 templates (templates/as3/, overridable by name).

The repository's own templates (`templates:`) run sandboxed and under a budget; the built-in ones,
which ship with the package and see only our model, run in a plain Environment (the sandbox's checks
on each attribute read and call were a third of the emit time), with the same filters and settings,
so they give the same bytes (tests/render/test_template_environments.py). StrictUndefined; every
value goes through `tojson`; the text a template produces is parsed at once, so a template mistake is
reported with the template's file and line instead of surfacing as a broken declaration later.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from itertools import repeat
from operator import add, attrgetter
from typing import Any

import jinja2
import orjson
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from renderer.config import Config
from renderer.errors import Origin, SourceError, SourceLocation, TemplateError
from renderer.model import TENANT_DICTS, Model, Tenant, unique_origins_each
from renderer.source import Tree, confined_path
from renderer.template_budget import bounded_binop, render_budgeted

MARKER_LABEL = "as3-gitops"
_ORIGINS = attrgetter("origins")
TOP_TEMPLATE = "declaration.json.j2"


def _tojson(value: Any) -> Markup:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError here, naming the missing attribute
    if isinstance(value, tuple):
        value = list(value)
    try:
        return Markup(orjson.dumps(value).decode())
    except TypeError:  # an integer beyond 64 bits: let validation report it instead of crashing
        return Markup(json.dumps(value, ensure_ascii=False, sort_keys=True))


class TreeLoader(jinja2.BaseLoader):
    """User templates from the repository tree being rendered (working tree or git ref).

    Every file of the folder is read up front (so a budgeted render never reads git or disk), and
    a template name that climbs out of the folder (`{% include "../../x" %}`) is refused."""

    def __init__(self, tree: Tree, folder: str):
        self.folder = folder.strip("/")
        self.sources: dict[str, bytes] = {}
        for path, key in tree.walk(self.folder):
            name = path[len(self.folder) + 1:] if self.folder not in ("", ".") else path
            self.sources[name] = tree.read_keyed(path, key)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, None]:
        try:
            confined_path(template)
        except SourceError as err:
            raise TemplateError(f"template name {template[:200]!r} leaves the templates folder",
                                location=SourceLocation(f"{self.folder}/{template}"[:300]),
                                hint="include templates by their name inside the templates folder") from err
        data = self.sources.get(template)
        if data is None:
            raise jinja2.TemplateNotFound(template)
        path = f"{self.folder}/{template}"
        try:
            return data.decode("utf-8"), path, lambda: True
        except UnicodeDecodeError as err:
            raise TemplateError(f"template {path} is not UTF-8 text", location=SourceLocation(path, 1, 1)) from err


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with a shortcut for the model's dataclasses (a million attribute reads at 10k Ingresses).

    For instances of ordinary classes Jinja2's own check reduces to "does not start with an
    underscore" (its internal-attribute list only concerns functions, methods, types, code,
    frames and generators), so the verdict is the same, without the generic type tests.
    """

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if type(obj).__module__ == _MODEL_MODULE:
            return not attr.startswith("_")
        return super().is_safe_attribute(obj, attr, value)


_MODEL_MODULE = Tenant.__module__


class _UserSandbox(_Sandbox):
    """For the repository's own templates: size-changing operators are checked (see template_budget)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    max_length = 512 * 1024 * 1024

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return bounded_binop(operator, left, right, self.max_length)


def _new_environment(loaders: list[jinja2.BaseLoader], cls: type[jinja2.Environment]) -> jinja2.Environment:
    env = cls(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = _tojson
    return env


@functools.cache
def _builtin_environment(cls: type[jinja2.Environment] = jinja2.Environment) -> jinja2.Environment:
    """Only our package's templates: trusted code, so not sandboxed (`cls` lets a test run them sandboxed)."""
    return _new_environment([jinja2.PackageLoader("renderer.templates", "as3")], cls)


def template_environment(tree: Tree | None, user_folder: str | None) -> jinja2.Environment:
    """Built-in templates, with the repository's `templates:` folder first so its files win by name
    (then every template, built-in ones included, runs in the user sandbox)."""
    if not user_folder or tree is None:
        return _builtin_environment()
    return _new_environment([TreeLoader(tree, user_folder), jinja2.PackageLoader("renderer.templates", "as3")],
                            _UserSandbox)


@dataclass(frozen=True)
class Identity:
    """What the declaration says about its source: the commit, or the working tree."""

    source: str  # commit sha or "working tree"

    @property
    def id(self) -> str:
        return "as3-gitops-" + (self.source[:12] if self.is_commit else "working-tree")

    @property
    def remark(self) -> str:
        return f"as3-gitops {self.source}"

    @property
    def is_commit(self) -> bool:
        return len(self.source) == 40 and all(c in "0123456789abcdef" for c in self.source)


def _sorted_tenant(tenant: Tenant) -> Tenant:
    for policy in tenant.policies.values():
        by_uri = sorted(policy.rules, key=lambda r: (r.rank[1] if len(r.rank) > 1 else "", r.name), reverse=True)
        policy.rules = sorted(by_uri, key=lambda r: r.rank[0] if r.rank else 9)
    return tenant


def render_as3(model: Model, config: Config, identity: Identity, tree: Tree | None = None) -> dict[str, Any]:
    env = template_environment(tree, config.templates)
    meta = {
        "schema_version": config.bigip.schema_version,
        "id": identity.id,
        "label": MARKER_LABEL,
        "remark": identity.remark,
        "tenant_label": MARKER_LABEL,
        "route_domain": config.bigip.default_route_domain,
    }
    tenants = [_sorted_tenant(model.tenants[name]) for name in sorted(model.tenants)]
    try:
        if config.templates and tree is not None:  # the repository's own templates: compiled and run under a budget
            env.max_length = config.limits.template_output_bytes  # type: ignore[attr-defined]
            where = SourceLocation(config.location.path, config.location.line or 1, 1)
            text = render_budgeted(lambda: env.get_template(TOP_TEMPLATE).generate(meta=meta, tenants=tenants),
                                   config.limits, where)
        else:
            text = env.get_template(TOP_TEMPLATE).render(meta=meta, tenants=tenants)
    except jinja2.TemplateSyntaxError as err:
        where = f"in {err.name or err.filename} line {err.lineno}"
        raise TemplateError(f"template syntax error: {err.message}", hint=where) from err
    except jinja2.TemplateError as err:
        raise TemplateError(f"template failed: {err}", hint=_template_frame(err)) from err
    try:
        as3 = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        line = text.count("\n", 0, err.pos) + 1
        raise TemplateError(f"templates produced invalid JSON: {err.msg} (output line {line})",
                            hint="check the overridden templates for a missing comma or quote") from err
    if not isinstance(as3, dict) or not isinstance(as3.get("declaration"), dict):
        raise TemplateError("templates must produce a JSON object (the AS3 request with its declaration), "
                            f"not {type(as3).__name__ if not isinstance(as3, dict) else 'this'}",
                            hint=f"check {TOP_TEMPLATE} in the templates folder")
    _merge_user_as3(as3["declaration"], model)
    return as3


def _merge_user_as3(declaration: dict[str, Any], model: Model) -> None:
    """AS3 ConfigMap tenants (whole, as CIS merges them), then the override ConfigMap (deep merge).
    Every tenant keeps our label: it is the ownership marker deploy relies on."""
    from renderer.mapping.as3_override import deep_merge

    for name in sorted(model.raw_tenants):
        declaration[name] = copy.deepcopy(model.raw_tenants[name].body)
    if model.override is not None:
        deep_merge(declaration, model.override.declaration)
    for name in [*model.tenants, *model.raw_tenants]:
        if isinstance(declaration.get(name), dict) and name != "Common":  # /Common takes no label
            declaration[name]["label"] = MARKER_LABEL


def _template_frame(err: BaseException) -> str | None:
    """The innermost template frame of a failure (Jinja2 rewrites tracebacks to template lines)."""
    tb = err.__traceback__
    where = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"in {filename} line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


def as3_sources(model: Model) -> dict[str, tuple[Origin, ...]]:
    """JSON pointer of every generated object -> the Kubernetes objects it came from (a group at a
    time: the pointers by `map`, the origins by `unique_origins_each`)."""
    sources: dict[str, tuple[Origin, ...]] = {}
    for tname, tenant in model.tenants.items():
        base = f"/{tname}/Shared/"
        facts = tenant.stored_facts()
        if facts is not None:  # a stored tenant not loaded: its names and origins without its objects
            for names, lists in facts.origin_groups():
                if names:
                    sources.update(zip(map(add, repeat(base), names), unique_origins_each(lists), strict=True))
            continue
        for attr in TENANT_DICTS:
            group = getattr(tenant, attr)
            if group:
                sources.update(zip(map(add, repeat(base), group),
                                   unique_origins_each(list(map(_ORIGINS, group.values()))), strict=True))
    for tname, raw in model.raw_tenants.items():
        prefix = f"/{tname}"
        sources.update(zip(map(add, repeat(prefix), raw.sources), unique_origins_each(list(raw.sources.values())),
                           strict=True))
    if model.override is not None:
        for tname, tenant in model.override.declaration.items():
            for app, objects in (tenant.items() if isinstance(tenant, dict) else ()):
                for name in (objects if isinstance(objects, dict) else ()):
                    key = f"/{tname}/{app}/{name}"
                    sources[key] = (*sources.get(key, ()), model.override.origin)
    return sources
