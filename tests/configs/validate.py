#!/usr/bin/env python3
"""Checks the host configuration files we ship, without network access.

- envoy/envoy.yaml against Envoy's own v3 API types (PyPI `envoy-data-plane`,
  betterproto2 dataclasses generated from Envoy's protos), twice over:
    1. `Bootstrap.from_dict`, which rejects unknown field names, wrong scalar types,
       unknown enum values and oneof conflicts, and resolves `typed_config` Any
       payloads by their `@type`;
    2. a strict walk of our own over the same dict, for what `from_dict` lets
       through: keys that are neither the proto nor the JSON field name but snake-case
       to one (`HTTP_FILTERS`, `http__filters`), extra keys beside `value` in an Any
       holding a wrapper type (StringValue), a string where a repeated field wants a
       list, scalars proto JSON refuses but pydantic coerces (`"no"` for a bool), and
       YAML duplicate keys (rejected when loading).
  Neither layer knows Envoy's protoc-gen-validate rules (non-empty strings, port
  ranges, required fields): Envoy itself still checks those at start-up.
  Bad copies of the file must be rejected (see ENVOY_MUTATIONS), so neither layer can
  pass vacuously.
- The two Envoy wasm filters: pre-function, then post-function, then the router; one
  shared VM; fail closed; the plugin configurations valid against
  kong-wasm/pre_function.meta.json and the VM configuration against the filter's
  VM configuration shape.
- kong-wasm/: both meta.json files are valid Draft 4 schemas; examples/valid-*.json
  pass and examples/invalid-*.json fail; the configs in kong.yml (filter chains) and
  kong-plugins.yml (plugins) pass, and are the same as Envoy's; kong.conf turns Wasm on.
- envoy/docker-compose.yml mounts what envoy.yaml expects.
- deploy/istio/ (WasmPlugin) and deploy/envoy-gateway/ (EnvoyExtensionPolicy) against
  the resources' CRD schemas and CEL rules, rewritten as our own checks in
  k8s_manifests.py, plus roles, order, fail closed and the same plugin configs as
  envoy.yaml; bad copies must be rejected (ISTIO_MUTATIONS, EG_MUTATIONS).

Prints one summary line and exits 0 when everything holds; otherwise prints every
failed check and exits 1. `-v` prints each check and why each bad copy was rejected.
"""

import argparse
import copy
import importlib
import json
import pathlib
import pkgutil
import sys
import traceback
import warnings

try:
    import jsonschema
    import yaml
    import betterproto2
    import envoy_data_plane
    from betterproto2.casing import safe_snake_case
    from envoy_data_plane.message_pool import default_message_pool
except ImportError as e:  # pragma: no cover
    sys.exit(f"validate.py: missing dependency ({e}); run tests/configs/run.sh, "
             "or pip install -r tests/configs/requirements.txt")

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import k8s_manifests  # noqa: E402  (beside this file)
ENVOY_YAML = ROOT / "envoy" / "envoy.yaml"
COMPOSE_YML = ROOT / "envoy" / "docker-compose.yml"
KONG_DIR = ROOT / "kong-wasm"
ISTIO_YAML = ROOT / "deploy" / "istio" / "kong-functions.yaml"
EG_YAML = ROOT / "deploy" / "envoy-gateway" / "kong-functions.yaml"
CARGO_TOML = ROOT / "Cargo.toml"

WASM_FILTER = "envoy.filters.http.wasm"
ROUTER_FILTER = "envoy.filters.http.router"
HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network."
            "http_connection_manager.v3.HttpConnectionManager")
WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
STRING_VALUE_TYPE = "type.googleapis.com/google.protobuf.StringValue"
VM_ID = "kong-functions"

# The VM configuration the filter accepts (src/vm_config.rs: every field optional,
# unknown fields rejected). Keep in step with that file.
LIMIT_NAMES = ["instructions", "memory_bytes", "string_bytes", "header_value_bytes",
               "exit_body_bytes", "log_line_bytes", "request_body_bytes", "response_body_bytes",
               "cache_entries", "cache_bytes", "chunks", "source_bytes", "phase_time_ms",
               "header_names"]
VM_CONFIG_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "untrusted_lua": {"enum": ["off", "strict", "lax", "sandbox", "on"]},
        "untrusted_lua_sandbox_requires": {"type": "array", "items": {"type": "string"}},
        "untrusted_lua_sandbox_environment": {"type": "array", "items": {"type": "string"}},
        "shared_data_zone": {"type": "string"},
        "envoy_allow_on_headers_stop_iteration": {"type": "boolean"},
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"type": "integer", "minimum": 1} for name in LIMIT_NAMES},
        },
    },
}


# The schema keyword each invalid example must trip, so that it fails for the reason
# its name gives (files not listed here only have to fail).
INVALID_EXAMPLE_REASONS = {
    "invalid-empty.json": "anyOf",                      # no phase at all
    "invalid-all-phases-empty.json": "anyOf",           # every phase empty
    "invalid-phase-not-array.json": "type",             # a string, not a list
    "invalid-unknown-key.json": "additionalProperties", # a misspelled phase
}

# Rules of the schema the example files do not exercise: (config, keyword it must trip).
SCHEMA_NEGATIVES = [
    ({"access": [""]}, "minLength"),                          # an empty chunk
    ({"access": [1]}, "type"),                                # a chunk that is not a string
    ({"functions": ["x"], "access": ["y"]}, "not"),           # legacy and new access together
    ({"log": ["x"], "ws_close": "x"}, "type"),                # any phase, not just access
]


class CheckFailed(Exception):
    """A check's reason for failing, shown as is."""


# --- loading -----------------------------------------------------------------------

class StrictLoader(yaml.SafeLoader):
    """YAML loader that rejects duplicate mapping keys (PyYAML keeps the last one)."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=StrictLoader)
    except yaml.YAMLError as e:
        raise CheckFailed(f"{rel(path)}: invalid YAML: " + " ".join(str(e).split())) from None


def load_yaml_documents(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.load_all(f, Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        raise CheckFailed(f"{rel(path)}: invalid YAML: " + " ".join(str(e).split())) from None


def crate_version():
    for line in CARGO_TOML.read_text(encoding="utf-8").splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise CheckFailed("Cargo.toml: no version line")


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as e:
        raise CheckFailed(f"{rel(path)}: invalid JSON: {e}") from None


def rel(path):
    return str(pathlib.Path(path).relative_to(ROOT))


# --- Envoy API types -----------------------------------------------------------------

def import_envoy_types():
    """Imports every module of envoy_data_plane, so that every message registers its
    type URL and `@type` in Any payloads resolves. Returns (imported, failed names)."""
    imported, failed = 0, []
    packages = pkgutil.walk_packages(envoy_data_plane.__path__, envoy_data_plane.__name__ + ".",
                                     onerror=lambda name: failed.append(name))
    for info in packages:
        try:
            importlib.import_module(info.name)
            imported += 1
        except Exception:  # one broken module must not hide the others
            failed.append(info.name)
    return imported, failed


def bootstrap_class():
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap
    return Bootstrap


def has_custom_json(cls):
    """Well-known types with their own JSON mapping (wrappers, Duration, Struct, Any...)."""
    return cls.from_dict.__func__ is not betterproto2.Message.from_dict.__func__


def json_name(field):
    """protoc's JSON name for a snake_case field: x509_cert -> x509Cert."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def strict_check(value, cls, path):
    """Walks a proto-JSON dict against message class `cls`; raises CheckFailed on a key
    that is not the field's proto name or JSON name, on a non-list for a repeated
    field, a non-object for a message or map, a scalar of a JSON type proto JSON does
    not allow for the field, and on an Any whose `@type` does not resolve or whose
    payload does not fit its type. Enum names, number ranges and oneofs are left to
    from_dict (pydantic)."""
    if cls.__name__ == "Any" and cls.__module__.endswith("google.protobuf"):
        return strict_check_any(value, path)
    if has_custom_json(cls) or value is None:
        return  # wrappers take scalars, Struct takes any object: from_dict checks them
    if not isinstance(value, dict):
        raise CheckFailed(f"{path}: expected an object for {cls.__name__}, got {type(value).__name__}")
    meta = cls._betterproto
    for key, item in value.items():
        field = safe_snake_case(key) if isinstance(key, str) else None
        if field not in meta.meta_by_field_name:
            raise CheckFailed(f"{path}: unknown field {key!r} in {cls.__name__}")
        proto_name = field[:-1] if field.endswith("_") else field  # `in_` is `in`
        if key not in (proto_name, json_name(proto_name)):
            raise CheckFailed(f"{path}: {key!r} is not a field name of {cls.__name__} "
                              f"(did you mean {proto_name!r}?)")
        if item is None:
            continue
        fmeta = meta.meta_by_field_name[field]
        field_cls = meta.cls_by_field[field]
        here = f"{path}.{key}"
        if fmeta.proto_type == betterproto2.TYPE_MAP:
            if not isinstance(item, dict):
                raise CheckFailed(f"{here}: expected an object (map), got {type(item).__name__}")
            value_meta = fmeta.map_meta[1]
            for k, v in item.items():
                check_value(v, value_meta, meta.cls_by_field[f"{field}.value"], f"{here}[{k!r}]")
        elif fmeta.repeated:
            if not isinstance(item, list):
                raise CheckFailed(f"{here}: expected a list, got {type(item).__name__}")
            for i, v in enumerate(item):
                check_value(v, fmeta, field_cls, f"{here}[{i}]")
        else:
            check_value(item, fmeta, field_cls, here)


# The JSON forms proto3 JSON accepts for each scalar type (pydantic's lax mode would
# also take "no" for a bool, 1 for a string, ...).
INT_TYPES = {betterproto2.TYPE_INT32, betterproto2.TYPE_INT64, betterproto2.TYPE_UINT32,
             betterproto2.TYPE_UINT64, betterproto2.TYPE_SINT32, betterproto2.TYPE_SINT64,
             betterproto2.TYPE_FIXED32, betterproto2.TYPE_FIXED64, betterproto2.TYPE_SFIXED32,
             betterproto2.TYPE_SFIXED64}
FLOAT_TYPES = {betterproto2.TYPE_FLOAT, betterproto2.TYPE_DOUBLE}


def check_value(value, fmeta, cls, path):
    """One value of a field (or one element of a repeated field or map)."""
    kind = fmeta.proto_type
    if value is None:
        return
    if kind == betterproto2.TYPE_MESSAGE:
        if not fmeta.unwrap:
            strict_check(value, cls, path)
        return  # a wrapper field (UInt32Value...) takes its scalar: from_dict checks it
    if kind == betterproto2.TYPE_BOOL:
        ok = isinstance(value, bool)
    elif kind in INT_TYPES:
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.lstrip("-").isdigit())
    elif kind in FLOAT_TYPES:
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or isinstance(value, str)
    elif kind == betterproto2.TYPE_ENUM:
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    else:  # string, bytes (base64 text)
        ok = isinstance(value, str)
    if not ok:
        raise CheckFailed(f"{path}: {value!r} is not a valid {kind} value in proto JSON")


def strict_check_any(value, path):
    if not isinstance(value, dict):
        raise CheckFailed(f"{path}: expected an object with '@type', got {type(value).__name__}")
    type_url = value.get("@type")
    msg_cls = default_message_pool.url_to_type.get(type_url)
    if msg_cls is None:
        raise CheckFailed(f"{path}: '@type' {type_url!r} is not a known Envoy API type")
    payload = {k: v for k, v in value.items() if k != "@type"}
    if has_custom_json(msg_cls):
        # Proto JSON puts a well-known type's own JSON form under "value".
        if set(payload) != {"value"}:
            raise CheckFailed(f"{path}: an Any holding {msg_cls.__name__} takes exactly "
                              f"'@type' and 'value', got {sorted(payload)}")
    else:
        strict_check(payload, msg_cls, f"{path}<{msg_cls.__name__}>")


def check_envoy_api(config):
    """Both layers; returns the warnings from_dict raised (deprecated fields)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            bootstrap_class().from_dict(config)
        except Exception as e:
            raise CheckFailed(f"Bootstrap.from_dict: {type(e).__name__}: "
                              + " ".join(str(e).split())[:400]) from None
    strict_check(config, bootstrap_class(), "bootstrap")
    return [str(w.message) for w in caught]


# --- the Envoy wasm filters ------------------------------------------------------------

def http_connection_managers(config):
    for listener in config.get("static_resources", {}).get("listeners", []):
        for chain in listener.get("filter_chains", []):
            for f in chain.get("filters", []):
                tc = f.get("typed_config", {})
                if tc.get("@type") == HCM_TYPE:
                    yield tc


def string_value(any_value, what):
    if not isinstance(any_value, dict) or any_value.get("@type") != STRING_VALUE_TYPE:
        raise CheckFailed(f"{what}: expected an Any holding google.protobuf.StringValue")
    return any_value.get("value", "")


def parse_json(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        raise CheckFailed(f"{what}: not valid JSON: {e}") from None


def schema_errors(validator, instance):
    return ["/".join(map(str, e.absolute_path)) + (": " if e.absolute_path else "") + e.message
            for e in sorted(validator.iter_errors(instance), key=str)]


def require_valid(validator, instance, what):
    errors = schema_errors(validator, instance)
    if errors:
        raise CheckFailed(f"{what} fails the schema: " + "; ".join(errors))


def envoy_plugin_configs(config, plugin_validator):
    """Checks the wasm filters; returns {root_id: plugin config} and the VM config."""
    hcms = list(http_connection_managers(config))
    if len(hcms) != 1:
        raise CheckFailed(f"expected one http_connection_manager, found {len(hcms)}")
    if not config.get("node", {}).get("id"):
        raise CheckFailed("node.id must be set: the filter's node.* properties (kong.node.get_id) read it")
    upgrades = [u.get("upgrade_type") for u in hcms[0].get("upgrade_configs", [])]
    if "websocket" not in upgrades:
        raise CheckFailed("upgrade_configs must allow websocket, or Envoy answers 403 before the ws_* phases")
    filters = hcms[0].get("http_filters", [])
    names = [f.get("name") for f in filters]
    wasm = [f for f in filters if f.get("name") == WASM_FILTER]
    if len(wasm) != 2:
        raise CheckFailed(f"expected 2 {WASM_FILTER} filters, found {len(wasm)}: {names}")
    if names[-1] != ROUTER_FILTER:
        raise CheckFailed(f"the router must be the last http filter: {names}")
    plugins = [f["typed_config"].get("config", {}) for f in wasm]
    roles = [(p.get("name"), p.get("root_id")) for p in plugins]
    if roles != [("pre-function", "pre-function"), ("post-function", "post-function")]:
        raise CheckFailed(f"expected pre-function then post-function (name, root_id), got {roles}")
    if not names.index(ROUTER_FILTER) > max(i for i, n in enumerate(names) if n == WASM_FILTER):
        raise CheckFailed(f"the wasm filters must come before the router: {names}")

    for f in wasm:
        if f["typed_config"].get("@type") != WASM_TYPE:
            raise CheckFailed(f"{f['typed_config'].get('@type')}: expected {WASM_TYPE}")
    vm_configs = [p.get("vm_config", {}) for p in plugins]
    if vm_configs[0] != vm_configs[1]:
        raise CheckFailed("the two wasm filters have different vm_config: Envoy would start two VMs")
    vm = vm_configs[0]
    if vm.get("vm_id") != VM_ID:
        raise CheckFailed(f"vm_id: expected {VM_ID!r}, got {vm.get('vm_id')!r}")
    if vm.get("runtime") != "envoy.wasm.runtime.v8":
        raise CheckFailed(f"runtime: expected envoy.wasm.runtime.v8, got {vm.get('runtime')!r}")
    if not vm.get("code", {}).get("local", {}).get("filename", "").endswith("kong_functions.wasm"):
        raise CheckFailed("vm_config.code.local.filename must name kong_functions.wasm")
    vm_config = parse_json(string_value(vm.get("configuration"), "vm_config.configuration"),
                           "vm_config.configuration")
    require_valid(jsonschema.Draft4Validator(VM_CONFIG_SCHEMA), vm_config, "vm_config.configuration")

    configs = {}
    for p in plugins:
        root_id = p["root_id"]
        # Fail closed, said explicitly (Envoy 1.35 deprecates fail_open for failure_policy).
        if p.get("failure_policy") != "FAIL_CLOSED":
            raise CheckFailed(f"{root_id}: failure_policy must be FAIL_CLOSED, got {p.get('failure_policy')!r}")
        if "fail_open" in p:
            raise CheckFailed(f"{root_id}: fail_open is deprecated; failure_policy says it")
        # The filter holds request headers for a body-reading rewrite/access only when
        # told the plugin sets allow_on_headers_stop_iteration: both must agree, or a
        # request hangs (held, no body) or loses its header changes.
        if p.get("allow_on_headers_stop_iteration") is not True:
            raise CheckFailed(f"{root_id}: allow_on_headers_stop_iteration must be true")
        if vm_config.get("envoy_allow_on_headers_stop_iteration") is not True:
            raise CheckFailed("vm_config.configuration: envoy_allow_on_headers_stop_iteration must be true, "
                              "as the plugins set allow_on_headers_stop_iteration")
        text = string_value(p.get("configuration"), f"{root_id}.configuration")
        cfg = parse_json(text, f"{root_id}.configuration")
        require_valid(plugin_validator, cfg, f"{root_id}.configuration")
        configs[root_id] = cfg
    return configs, vm_config


# --- Kong ----------------------------------------------------------------------------

def kong_chain_configs(decl):
    """Filter configs from the filter_chains form (kong.yml), in chain order."""
    found = []
    for service in decl.get("services", []):
        for holder in [service] + service.get("routes", []):
            for chain in holder.get("filter_chains", []):
                found.extend((f.get("name"), f.get("config")) for f in chain.get("filters", []))
    return found


def kong_plugin_configs(decl):
    """Filter configs from the plugins form (kong-plugins.yml)."""
    found = []
    for service in decl.get("services", []):
        for holder in [service] + service.get("routes", []):
            found.extend((p.get("name"), p.get("config")) for p in holder.get("plugins", []))
    return found + [(p.get("name"), p.get("config")) for p in decl.get("plugins", [])]


def check_kong_configs(found, validators, envoy_configs, what):
    names = [n for n, _ in found]
    if names != ["pre_function", "post_function"]:
        raise CheckFailed(f"{what}: expected filters pre_function then post_function, got {names}")
    for name, cfg in found:
        if name not in validators:
            raise CheckFailed(f"{what}: {name}: no {name}.meta.json in kong-wasm/")
        require_valid(validators[name], cfg, f"{what}: {name}.config")
        role = name.replace("_", "-")
        # Kong names filters after their module file, so each Kong config says its role;
        # Envoy's take it from root_id. Otherwise the two must be the same config.
        if cfg.get("role") != role:
            raise CheckFailed(f"{what}: {name}.config must say role: {role} (Kong names filters after the file)")
        cfg = {k: v for k, v in cfg.items() if k != "role"}
        envoy_cfg = envoy_configs[role]
        if cfg != envoy_cfg:
            raise CheckFailed(f"{what}: {name}.config differs from envoy.yaml's "
                              f"{name.replace('_', '-')} configuration")


def read_kong_conf(path):
    settings = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, sep, value = line.partition("=")
            if not sep:
                raise CheckFailed(f"{rel(path)}: not a 'key = value' line: {line!r}")
            settings[key.strip()] = value.strip()
    return settings


# --- bad copies that must be rejected ---------------------------------------------------

def _hcm(c):
    return c["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]


def _plugin(c, i):
    return _hcm(c)["http_filters"][i]["typed_config"]["config"]


def _rename(d, old, new):
    d[new] = d.pop(old)


# Each must fail the Envoy API check (from_dict and/or the strict walk).
ENVOY_MUTATIONS = [
    ("misspelled http_filters (http_filterz)", lambda c: _rename(_hcm(c), "http_filters", "http_filterz")),
    ("unknown top-level field", lambda c: c.__setitem__("admins", {})),
    ("misspelled field inside a typed_config Any (vm_idd)",
     lambda c: _rename(_plugin(c, 0)["vm_config"], "vm_id", "vm_idd")),
    ("typed_config with an unknown @type",
     lambda c: _hcm(c)["http_filters"][0]["typed_config"].__setitem__("@type", WASM_TYPE + "x")),
    ("unknown enum value (type: STATICK)",
     lambda c: c["static_resources"]["clusters"][0].__setitem__("type", "STATICK")),
    ("oneof set twice (match prefix and path)",
     lambda c: _hcm(c)["route_config"]["virtual_hosts"][0]["routes"][0]["match"].__setitem__("path", "/x")),
    # The next four pass from_dict: only the strict walk rejects them.
    ("string for a bool (respect_dns_ttl: 'no')",
     lambda c: c["static_resources"]["clusters"][0].__setitem__("respect_dns_ttl", "no")),
    ("field name that only snake-cases right (http__filters)",
     lambda c: _rename(_hcm(c), "http_filters", "http__filters")),
    ("extra key beside a StringValue's value",
     lambda c: _plugin(c, 1)["configuration"].__setitem__("valu", "{}")),
    ("string where a list is wanted (domains: '*')",
     lambda c: _hcm(c)["route_config"]["virtual_hosts"][0].__setitem__("domains", "*")),
]


def _set_config(c, i, text):
    _plugin(c, i)["configuration"]["value"] = text


def _swap_wasm(c):
    fs = _hcm(c)["http_filters"]
    fs[0], fs[1] = fs[1], fs[0]


# Each must fail the wasm filter checks (the API check alone would accept them).
WASM_MUTATIONS = [
    ("post-function before pre-function", _swap_wasm),
    ("router before the wasm filters", lambda c: _hcm(c)["http_filters"].insert(0, _hcm(c)["http_filters"].pop())),
    ("two different vm_ids", lambda c: _plugin(c, 1)["vm_config"].__setitem__("vm_id", "other")),
    ("no node block", lambda c: c.pop("node")),
    ("no websocket upgrade", lambda c: _hcm(c).pop("upgrade_configs")),
    ("failure_policy: FAIL_OPEN", lambda c: _plugin(c, 0).__setitem__("failure_policy", "FAIL_OPEN")),
    ("allow_on_headers_stop_iteration off", lambda c: _plugin(c, 1).__setitem__("allow_on_headers_stop_iteration", False)),
    ("plugin configuration not JSON", lambda c: _set_config(c, 0, "{access: [")),
    ("plugin configuration with an unknown key",
     lambda c: _set_config(c, 1, '{"header_filter": ["x"], "header_filtr": ["x"]}')),
    ("VM configuration with an unknown limit",
     lambda c: [_plugin(c, i)["vm_config"]["configuration"].__setitem__(
         "value", '{"limits": {"instructionz": 1}}') for i in (0, 1)]),
]


# --- driver --------------------------------------------------------------------------

class Checks:
    def __init__(self, verbose):
        self.verbose, self.passed, self.failed = verbose, 0, []

    def run(self, name, fn, *args):
        try:
            result = fn(*args)
        except CheckFailed as e:
            self.failed.append(f"{name}: {e}")
            print(f"FAIL {name}: {e}", file=sys.stderr)
            return None
        except Exception as e:
            self.failed.append(f"{name}: {type(e).__name__}: {e}")
            print(f"FAIL {name}: unexpected {type(e).__name__}: {e}", file=sys.stderr)
            if self.verbose:
                traceback.print_exc()
            return None
        self.passed += 1
        if self.verbose:
            print(f"ok   {name}")
        return result


def must_reject(check, base, mutate, verbose, what):
    config = copy.deepcopy(base)
    mutate(config)
    try:
        check(config)
    except CheckFailed as e:  # anything else is a bug in the checker: let it surface
        if verbose:
            print(f"       {what}: rejected: {' '.join(str(e).split())[:160]}")
        return
    raise CheckFailed(f"a bad copy was accepted: {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every check")
    verbose = parser.parse_args().verbose
    sys.stdout.reconfigure(line_buffering=True)  # keep ok/FAIL lines in order
    checks = Checks(verbose)

    imported, failed_imports = import_envoy_types()
    if verbose or failed_imports:
        print(f"envoy_data_plane: {imported} modules imported, {len(failed_imports)} failed"
              + (f" ({', '.join(failed_imports[:5])}...)" if failed_imports else ""))

    # kong-wasm schemas first: the Envoy plugin configs are checked against them.
    validators = {}

    def load_meta(name):
        meta = load_json(KONG_DIR / f"{name}.meta.json")
        if set(meta) != {"config_schema"}:
            raise CheckFailed(f"{name}.meta.json: expected only 'config_schema', got {sorted(meta)}")
        schema = meta["config_schema"]
        jsonschema.Draft4Validator.check_schema(schema)
        if schema.get("$schema") != "http://json-schema.org/draft-04/schema#":
            raise CheckFailed(f"{name}.meta.json: $schema must be draft-04 (Kong's validator)")
        validators[name] = jsonschema.Draft4Validator(schema)

    for name in ("pre_function", "post_function"):
        checks.run(f"kong-wasm/{name}.meta.json is a Draft 4 schema", load_meta, name)
    if set(validators) != {"pre_function", "post_function"}:
        return finish(checks, imported, failed_imports)

    def same_rules():
        strip = lambda s: {k: v for k, v in s.items() if k not in ("title", "description")}
        if strip(validators["pre_function"].schema) != strip(validators["post_function"].schema):
            raise CheckFailed("pre_function and post_function schemas differ beyond title/description")
    checks.run("pre_function and post_function schemas agree", same_rules)

    examples = sorted((KONG_DIR / "examples").glob("*.json"))
    valid = [p for p in examples if p.name.startswith("valid-")]
    invalid = [p for p in examples if p.name.startswith("invalid-")]
    stray = [p.name for p in examples if p not in valid and p not in invalid]

    def example_set():
        if not valid or not invalid or stray:
            raise CheckFailed(f"examples/: need valid-*.json and invalid-*.json only "
                              f"({len(valid)} valid, {len(invalid)} invalid, stray: {stray})")
    checks.run("kong-wasm/examples has valid and invalid examples", example_set)
    for p in valid:
        checks.run(f"{rel(p)} passes", lambda p=p: require_valid(validators["pre_function"], load_json(p), p.name))

    def fails(p):
        errors = list(validators["pre_function"].iter_errors(load_json(p)))
        if not errors:
            raise CheckFailed("the schema accepts it")
        want = INVALID_EXAMPLE_REASONS.get(p.name)
        got = sorted({e.validator for e in errors})
        if want and want not in got:
            raise CheckFailed(f"rejected, but not by '{want}' (by {got}): the example no "
                              "longer tests what its name says")
        if verbose:
            print(f"       rejected by {got}: {' '.join(errors[0].message.split())[:140]}")
    for p in invalid:
        checks.run(f"{rel(p)} fails", fails, p)

    def schema_rejects(config, keyword):
        got = sorted({e.validator for e in validators["pre_function"].iter_errors(config)})
        if keyword not in got:
            raise CheckFailed(f"expected a '{keyword}' error, got {got or 'none'}")
    for config, keyword in SCHEMA_NEGATIVES:
        checks.run(f"schema rejects {json.dumps(config)} ({keyword})", schema_rejects, config, keyword)

    # Envoy.
    envoy = checks.run(f"{rel(ENVOY_YAML)} loads (YAML, no duplicate keys)", load_yaml, ENVOY_YAML)
    if envoy is None:
        return finish(checks, imported, failed_imports)
    notes = checks.run(f"{rel(ENVOY_YAML)} matches Envoy's v3 Bootstrap", check_envoy_api, envoy)
    for note in notes or []:
        print(f"note: from_dict warned: {note}")
    result = checks.run("Envoy wasm filters: order, shared VM, fail closed, configs valid",
                        envoy_plugin_configs, envoy, validators["pre_function"])

    # Bad copies are made from a good file only (else they prove nothing).
    if notes is not None:
        for what, mutate in ENVOY_MUTATIONS:
            checks.run(f"Envoy API check rejects a copy with {what}",
                       must_reject, check_envoy_api, envoy, mutate, verbose, what)
    if result is not None:
        for what, mutate in WASM_MUTATIONS:
            checks.run(f"wasm filter check rejects a copy with {what}", must_reject,
                       lambda c: envoy_plugin_configs(c, validators["pre_function"]),
                       envoy, mutate, verbose, what)

    if result is not None:
        envoy_configs, vm_config = result
        for path, collect in ((KONG_DIR / "kong.yml", kong_chain_configs),
                              (KONG_DIR / "kong-plugins.yml", kong_plugin_configs)):
            def kong_check(path=path, collect=collect):
                decl = load_yaml(path)
                if decl.get("_format_version") != "3.0":
                    raise CheckFailed(f"_format_version must be \"3.0\", got {decl.get('_format_version')!r}")
                check_kong_configs(collect(decl), validators, envoy_configs, rel(path))
            checks.run(f"{rel(path)}: pre_function, post_function, configs valid and as Envoy's", kong_check)

        def kong_conf():
            s = read_kong_conf(KONG_DIR / "kong.conf")
            want = {"wasm": "on", "wasm_filters_path": "/usr/local/kong/wasm",
                    "wasm_filters": "bundled,user",
                    "untrusted_lua": vm_config.get("untrusted_lua", "sandbox")}
            wrong = {k: s.get(k) for k, v in want.items() if s.get(k) != v}
            if wrong:
                raise CheckFailed(f"kong.conf: expected {want}, wrong or missing: {wrong}")
        checks.run("kong-wasm/kong.conf: wasm on, filters path, same untrusted_lua as Envoy", kong_conf)

        def compose():
            c = load_yaml(COMPOSE_YML)
            svc = c["services"]["envoy"]
            if not str(svc.get("image", "")).startswith("envoyproxy/envoy:v1.35"):
                raise CheckFailed(f"envoy image: expected envoyproxy/envoy:v1.35-*, got {svc.get('image')!r}")
            targets = {v.split(":")[1] for v in svc.get("volumes", [])}
            plugin = _plugin(envoy, 0)
            wanted = {"/etc/envoy/envoy.yaml", plugin["vm_config"]["code"]["local"]["filename"]}
            if not wanted <= targets:
                raise CheckFailed(f"envoy volumes must mount {sorted(wanted)}, mount {sorted(targets)}")
            port = str(envoy["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]
                       ["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["port_value"])
            upstream = c["services"]["upstream"]
            if str(upstream.get("environment", {}).get("PORT")) != port:
                raise CheckFailed(f"upstream must listen on the cluster's port {port}")
        checks.run(f"{rel(COMPOSE_YML)}: mounts what envoy.yaml loads, upstream port", compose)

        # Istio and Envoy Gateway manifests.
        for path, check, mutations, what in (
                (ISTIO_YAML, k8s_manifests.check_istio, k8s_manifests.ISTIO_MUTATIONS,
                 "WasmPlugin schema and CEL rules, pre-function AUTHN first, post-function last"),
                (EG_YAML, k8s_manifests.check_envoy_gateway, k8s_manifests.EG_MUTATIONS,
                 "EnvoyExtensionPolicy schema and CEL rules, wasm pre-function then post-function")):
            def manifest(docs, check=check):
                try:
                    check(docs, validators["pre_function"], envoy_configs, crate_version())
                except k8s_manifests.ManifestError as e:
                    raise CheckFailed(str(e)) from None
                return True
            docs = checks.run(f"{rel(path)} loads (YAML, no duplicate keys)", load_yaml_documents, path)
            if docs is None:
                continue
            checks.run(f"{rel(path)} has no TODO left",
                       lambda p=path: k8s_manifests.no_placeholder_left(p.read_text(encoding="utf-8"), rel(p)))
            if checks.run(f"{rel(path)}: {what}", manifest, docs) is None:
                continue  # bad copies prove nothing when the good file fails
            for bad, mutate in mutations:
                checks.run(f"{rel(path)} check rejects a copy with {bad}",
                           must_reject, manifest, docs, mutate, verbose, bad)

    return finish(checks, imported, failed_imports)


def finish(checks, imported, failed_imports):
    if checks.failed:
        print(f"validate.py: {len(checks.failed)} of {checks.passed + len(checks.failed)} "
              "config checks FAILED (see above)", file=sys.stderr)
        return 1
    print(f"validate.py: all {checks.passed} config checks passed (envoy.yaml against Envoy's v3 API "
          f"with {imported} envoy_data_plane modules, {len(failed_imports)} failed to import; "
          f"{len(ENVOY_MUTATIONS) + len(WASM_MUTATIONS) + len(SCHEMA_NEGATIVES) + len(k8s_manifests.ISTIO_MUTATIONS) + len(k8s_manifests.EG_MUTATIONS)} "
          "bad inputs rejected; kong-wasm schemas, examples, kong.yml, kong-plugins.yml, kong.conf, "
          "docker-compose.yml, deploy/istio, deploy/envoy-gateway)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
