"""Checks for deploy/istio/ (Istio WasmPlugin) and deploy/envoy-gateway/ (Envoy Gateway
EnvoyExtensionPolicy), without a cluster.

The resources' published schemas are the CRDs' OpenAPI v3 schemas and their CEL rules:
Istio's `kubernetes/customresourcedefinitions.gen.yaml` in istio/api (WasmPlugin,
extensions.istio.io/v1alpha1, from `extensions/v1alpha1/wasm.proto`) and Envoy Gateway's
`charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_envoyextensionpolicies.yaml`
(EnvoyExtensionPolicy, gateway.envoyproxy.io/v1alpha1, from `api/v1alpha1/wasm_types.go`
and `envoyextensionpolicy_types.go`). Those files are not copied here: the parts our
manifests use are rewritten below as JSON Schemas of our own (types, enums, required
fields, patterns and bounds as the CRDs state them) and the CEL rules as Python
functions. Unknown fields are rejected (`additionalProperties: false`), as `kubectl
apply` does with its default strict field validation.

On top of the schemas, what our deployment needs: each resource's plugin name (Istio's
`pluginName`, Envoy Gateway's `rootID`, both Envoy's root_id) gives the role the
filter derives from it (src/config.rs, `Role::from_host_name`); pre-function runs
first and post-function last; failure closes; the plugin configs pass the filter's
config schema (kong-wasm/pre_function.meta.json) and equal envoy/envoy.yaml's; the image
tag is the crate version `make oci` writes.

Bad copies of each file must be rejected (MUTATIONS), so no check passes vacuously.
"""

import re
import urllib.parse

import jsonschema

# --- shared Kubernetes shapes --------------------------------------------------------

# Kubernetes object names: DNS-1123 subdomain (names) and label (namespaces).
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
GROUP_PATTERN = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
KIND_PATTERN = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"

METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": DNS1123_SUBDOMAIN},
        "namespace": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": DNS1123_LABEL},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def resource(api_version, kind, spec):
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": METADATA,
            "spec": spec,
        },
        "additionalProperties": False,
    }


def strict(obj):
    """The object schema with unknown fields rejected."""
    return dict(obj, additionalProperties=False)


# --- Istio WasmPlugin (extensions.istio.io/v1alpha1) ----------------------------------

ISTIO_POLICY_TARGET_REF = strict({
    "type": "object",
    "required": ["kind", "name"],
    "properties": {
        "group": {"type": "string", "maxLength": 253, "pattern": GROUP_PATTERN},
        "kind": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": KIND_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": 253},
        "namespace": {"type": "string"},
    },
})

WASM_PLUGIN = resource("extensions.istio.io/v1alpha1", "WasmPlugin", strict({
    "type": "object",
    "required": ["url"],
    "properties": {
        "selector": strict({
            "type": "object",
            "properties": {
                "matchLabels": {
                    "type": "object",
                    "maxProperties": 4096,
                    "additionalProperties": {"type": "string", "maxLength": 63},
                },
            },
        }),
        "targetRef": ISTIO_POLICY_TARGET_REF,
        "targetRefs": {"type": "array", "maxItems": 16, "items": ISTIO_POLICY_TARGET_REF},
        "url": {"type": "string", "minLength": 1},
        "sha256": {"type": "string", "pattern": r"(^$|^[a-f0-9]{64}$)"},
        "imagePullPolicy": {"enum": ["UNSPECIFIED_POLICY", "IfNotPresent", "Always"]},
        "imagePullSecret": {"type": "string", "minLength": 1, "maxLength": 253},
        "verificationKey": {"type": "string"},
        "pluginConfig": {"type": "object"},
        "pluginName": {"type": "string", "minLength": 1, "maxLength": 256},
        "phase": {"enum": ["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"]},
        # google.protobuf.Int32Value, nullable.
        "priority": {"type": ["integer", "null"], "minimum": -2**31, "maximum": 2**31 - 1},
        "failStrategy": {"enum": ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"]},
        "vmConfig": strict({
            "type": "object",
            "properties": {
                "env": {
                    "type": "array",
                    "maxItems": 256,
                    "items": strict({
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 256},
                            "value": {"type": "string", "maxLength": 2048},
                            "valueFrom": {"enum": ["INLINE", "HOST"]},
                        },
                    }),
                },
            },
        }),
        "match": {
            "type": "array",
            "items": strict({
                "type": "object",
                "properties": {
                    "mode": {"enum": ["UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER"]},
                    "ports": {
                        "type": "array",
                        "items": strict({
                            "type": "object",
                            "required": ["number"],
                            "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 65535}},
                        }),
                    },
                },
            }),
        },
        "type": {"enum": ["UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"]},
    },
}))


def wasm_plugin_cel(spec):
    """The CRD's CEL rules (x-kubernetes-validations), as Python. Returns messages."""
    errors = []
    # spec: at most one of selector, targetRef, targetRefs.
    if sum(k in spec for k in ("selector", "targetRef", "targetRefs")) > 1:
        errors.append("only one of targetRefs or selector can be set")
    # spec.url: a URL whose scheme is one of '', http, https, oci, file (a bare
    # reference such as registry/image:tag parses as one after "http://").
    url = spec.get("url", "")
    if isinstance(url, str):
        parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        if parsed.scheme not in ("", "http", "https", "oci", "file") or not (parsed.netloc or parsed.path):
            errors.append("url must have schema one of [http, https, file, oci]")
    # selector.matchLabels: no wildcard in keys or values, no empty key.
    labels = spec.get("selector", {}).get("matchLabels", {})
    if isinstance(labels, dict):
        if any("*" in k for k in labels):
            errors.append("wildcard not allowed in label key match")
        if any(k == "" for k in labels):
            errors.append("key must not be empty")
        if any(isinstance(v, str) and "*" in v for v in labels.values()):
            errors.append("wildcard not allowed in label value match")
    # targetRef(s).namespace: cross namespace referencing is not supported.
    refs = spec.get("targetRefs", []) + ([spec["targetRef"]] if "targetRef" in spec else [])
    if any(isinstance(r, dict) and r.get("namespace") for r in refs):
        errors.append("cross namespace referencing is not currently supported")
    # vmConfig.env[]: value only with valueFrom INLINE.
    for env in spec.get("vmConfig", {}).get("env", []):
        if isinstance(env, dict) and env.get("valueFrom", "") == "HOST" and "value" in env:
            errors.append("value may only be set when valueFrom is INLINE")
    return errors


# --- Envoy Gateway EnvoyExtensionPolicy (gateway.envoyproxy.io/v1alpha1) --------------

EG_SECRET_REF = strict({
    "type": "object",
    "required": ["name"],
    "properties": {
        "group": {"type": "string", "maxLength": 253, "pattern": GROUP_PATTERN},
        "kind": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": KIND_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": 253},
        "namespace": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": DNS1123_LABEL},
    },
})
EG_TLS = strict({"type": "object", "required": ["caCertificateRef"], "properties": {"caCertificateRef": EG_SECRET_REF}})
EG_TARGET_REF = strict({
    "type": "object",
    "required": ["group", "kind", "name"],
    "properties": {
        "group": {"type": "string", "maxLength": 253, "pattern": GROUP_PATTERN},
        "kind": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": KIND_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": 253},
        "sectionName": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": DNS1123_SUBDOMAIN},
    },
})
EG_HTTP_URL = (r"^((https?:)(\/\/\/?)([\w]*(?::[\w]*)?@)?([\d\w\.-]+)(?::(\d+))?)?"
               r"([\/\\\w\.()-]*)?(?:([?][^#]*)?(#.*)?)*")

ENVOY_EXTENSION_POLICY = resource("gateway.envoyproxy.io/v1alpha1", "EnvoyExtensionPolicy", {
    # Other members (extProc, lua, dynamicModule, targetSelectors, mergeType) are not
    # used by our manifest; naming one that is not in the CRD is still refused.
    "type": "object",
    "properties": {
        "targetRef": EG_TARGET_REF,
        "targetRefs": {"type": "array", "items": EG_TARGET_REF},
        "targetSelectors": {"type": "array"},
        "mergeType": {"type": "string"},
        "extProc": {"type": "array"},
        "lua": {"type": "array"},
        "dynamicModule": {"type": "array"},
        "wasm": {
            "type": "array",
            "maxItems": 16,
            "items": strict({
                "type": "object",
                "required": ["code"],
                "properties": {
                    "name": {"type": "string"},
                    "rootID": {"type": "string"},
                    "code": strict({
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            # allOf [HTTP, Image] and [HTTP, Image, ConfigMap]: HTTP or Image.
                            "type": {"type": "string", "enum": ["HTTP", "Image"]},
                            "http": strict({
                                "type": "object",
                                "required": ["url"],
                                "properties": {
                                    "url": {"type": "string", "pattern": EG_HTTP_URL},
                                    "sha256": {"type": "string"},
                                    "tls": EG_TLS,
                                },
                            }),
                            "image": strict({
                                "type": "object",
                                "required": ["url"],
                                "properties": {
                                    "url": {"type": "string"},
                                    "sha256": {"type": "string"},
                                    "pullSecretRef": EG_SECRET_REF,
                                    "tls": EG_TLS,
                                },
                            }),
                            "pullPolicy": {"enum": ["IfNotPresent", "Always"]},
                        },
                    }),
                    # x-kubernetes-preserve-unknown-fields: any JSON.
                    "config": {},
                    "failOpen": {"type": "boolean"},
                    "env": strict({
                        "type": "object",
                        "properties": {"hostKeys": {"type": "array", "items": {"type": "string"}}},
                    }),
                },
            }),
        },
    },
    "additionalProperties": False,
})

EG_TARGET_KINDS = ["Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"]


def envoy_extension_policy_cel(spec):
    """The CRD's CEL rules (x-kubernetes-validations), as Python. Returns messages."""
    errors = []
    has_ref, has_refs = "targetRef" in spec, "targetRefs" in spec
    if not ((has_ref != has_refs) or spec.get("targetSelectors")):
        errors.append("either targetRef or targetRefs must be used")
    refs = spec.get("targetRefs", []) + ([spec["targetRef"]] if has_ref else [])
    for r in refs:
        if not isinstance(r, dict):
            continue
        if r.get("group") != "gateway.networking.k8s.io":
            errors.append("this policy can only have a targetRef(s).group of gateway.networking.k8s.io")
        if r.get("kind") not in EG_TARGET_KINDS:
            errors.append("this policy can only have a targetRef(s).kind of " + "/".join(EG_TARGET_KINDS))
    for w in spec.get("wasm", []):
        code = w.get("code", {}) if isinstance(w, dict) else {}
        t = code.get("type")
        if (t == "HTTP") != ("http" in code):
            errors.append("If type is HTTP, http field needs to be set.")
        if (t == "Image") != ("image" in code):
            errors.append("If type is Image, image field needs to be set.")
        ref = code.get("image", {}).get("pullSecretRef")
        if isinstance(ref, dict) and ref.get("kind", "Secret") != "Secret":
            errors.append("only support Secret kind.")
    return errors


# --- what our deployment needs ---------------------------------------------------------

def role_from_host_name(name):
    """src/config.rs `Role::from_host_name`: the role the filter takes from root_id."""
    normalized = name.lower().replace("_", "-")
    return "post-function" if "post-function" in normalized or normalized == "post" else "pre-function"


class ManifestError(Exception):
    """A failed check, with its reason."""


def schema_check(schema, doc, cel, what):
    errors = ["/".join(map(str, e.absolute_path)) + ": " + e.message
              for e in sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=str)]
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if isinstance(spec, dict):
        errors += [f"spec: {m}" for m in cel(spec)]
    if errors:
        raise ManifestError(f"{what}: " + "; ".join(errors))


def expected_image(version):
    return f"registry.example.com/kong-functions:{version}"


def check_istio(docs, plugin_validator, envoy_configs, version):
    """deploy/istio/kong-functions.yaml: two valid WasmPlugins, pre first, post last."""
    if not isinstance(docs, list) or len(docs) != 2:
        raise ManifestError(f"expected two WasmPlugin documents, got {len(docs) if isinstance(docs, list) else docs!r}")
    for i, doc in enumerate(docs):
        schema_check(WASM_PLUGIN, doc, wasm_plugin_cel, f"document {i + 1}")
    pre, post = (d["spec"] for d in docs)
    roles = [role_from_host_name(s.get("pluginName", "")) for s in (pre, post)]
    if roles != ["pre-function", "post-function"]:
        raise ManifestError(f"pluginName (Envoy's root_id) must give the roles pre-function, "
                            f"post-function; gives {roles}")
    # Istio's order: AUTHN, AUTHZ, STATS, then no phase (before the router); within a
    # phase, higher priority first (wasm.proto: "in descending order").
    rank = {"AUTHN": 0, "AUTHZ": 1, "STATS": 2, "UNSPECIFIED_PHASE": 3}
    if rank[pre.get("phase", "UNSPECIFIED_PHASE")] != 0:
        raise ManifestError("pre-function must be in the AUTHN phase (first in the chain)")
    if rank[post.get("phase", "UNSPECIFIED_PHASE")] != 3:
        raise ManifestError("post-function must have no phase (the end of the chain, before the router)")
    if pre.get("priority") is None or post.get("priority") is None or not pre["priority"] > 0 > post["priority"]:
        raise ManifestError("priorities: pre-function's must be positive (first in AUTHN), "
                            "post-function's negative (last among phase-less plugins)")
    for name, spec in (("pre-function", pre), ("post-function", post)):
        check_common(spec.get("failStrategy", "FAIL_CLOSE") == "FAIL_CLOSE", f"{name}: failStrategy must be FAIL_CLOSE")
        check_common(spec.get("type") == "HTTP", f"{name}: type must be HTTP")
        check_common(spec["url"] == "oci://" + expected_image(version),
                     f"{name}: url must be oci://{expected_image(version)} (make oci's tag), got {spec['url']!r}")
        check_plugin_config(spec.get("pluginConfig"), name, plugin_validator, envoy_configs)
        check_common(pre.get("selector") == spec.get("selector"), "both plugins must select the same workloads")


def check_envoy_gateway(docs, plugin_validator, envoy_configs, version):
    """deploy/envoy-gateway/kong-functions.yaml: one valid policy, wasm pre then post."""
    if not isinstance(docs, list) or len(docs) != 1:
        raise ManifestError("expected one EnvoyExtensionPolicy document")
    doc = docs[0]
    schema_check(ENVOY_EXTENSION_POLICY, doc, envoy_extension_policy_cel, "document 1")
    wasm = doc["spec"].get("wasm", [])
    roles = [role_from_host_name(w.get("rootID", "")) for w in wasm]
    if roles != ["pre-function", "post-function"]:
        raise ManifestError(f"wasm[].rootID (Envoy's root_id) must give pre-function then "
                            f"post-function (list order is chain order); gives {roles}")
    for w in wasm:
        name = role_from_host_name(w["rootID"])
        check_common(w.get("failOpen") is False, f"{name}: failOpen must be false")
        check_common(w["code"]["type"] == "Image", f"{name}: code.type must be Image")
        check_common(w["code"]["image"]["url"] == expected_image(version),
                     f"{name}: image.url must be {expected_image(version)} (make oci's tag)")
        check_plugin_config(w.get("config"), name, plugin_validator, envoy_configs)


def check_common(ok, message):
    if not ok:
        raise ManifestError(message)


def check_plugin_config(cfg, role, plugin_validator, envoy_configs):
    errors = [e.message for e in plugin_validator.iter_errors(cfg)]
    if errors:
        raise ManifestError(f"{role}: the plugin config fails the filter's schema: {'; '.join(errors)}")
    if cfg != envoy_configs[role]:
        raise ManifestError(f"{role}: the plugin config differs from envoy/envoy.yaml's")


# --- bad copies that must be rejected ----------------------------------------------------

def _set(path, value):
    def mutate(docs):
        target = docs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _del(path):
    def mutate(docs):
        target = docs
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _swap(docs):
    docs[0], docs[1] = docs[1], docs[0]


ISTIO_MUTATIONS = [
    ("no url (required)", _del([0, "spec", "url"])),
    ("an unknown phase", _set([0, "spec", "phase"], "FIRST")),
    ("an unknown field", _set([0, "spec", "rootId"], "pre-function")),
    ("priority as a string", _set([0, "spec", "priority"], "1000")),
    ("an ftp:// url (CEL)", _set([0, "spec", "url"], "ftp://registry.example.com/kong-functions:0.1.0")),
    ("selector and targetRefs together (CEL)",
     _set([0, "spec", "targetRefs"], [{"kind": "Gateway", "name": "gw"}])),
    ("an env value from HOST (CEL)", _set([0, "spec", "vmConfig"], {"env": [{"name": "X", "valueFrom": "HOST", "value": "v"}]})),
    ("the plugins in the wrong order", _swap),
    ("post-function's pluginName on both", _set([0, "spec", "pluginName"], "post-function")),
    ("pre-function in the STATS phase", _set([0, "spec", "phase"], "STATS")),
    ("post-function in the AUTHN phase", _set([1, "spec", "phase"], "AUTHN")),
    ("fail open", _set([1, "spec", "failStrategy"], "FAIL_OPEN")),
    ("a Lua chunk that is not a string", _set([0, "spec", "pluginConfig", "access"], [1])),
    ("a metadata name with capitals", _set([0, "metadata", "name"], "Kong-Pre")),
]

EG_MUTATIONS = [
    ("no code (required)", _del([0, "spec", "wasm", 0, "code"])),
    ("code.type Http (enum)", _set([0, "spec", "wasm", 0, "code", "type"], "Http")),
    ("type Image without image (CEL)", _del([0, "spec", "wasm", 0, "code", "image"])),
    ("type HTTP with an image (CEL)", _set([0, "spec", "wasm", 0, "code", "type"], "HTTP")),
    ("an unknown field", _set([0, "spec", "wasm", 0, "rootId"], "pre-function")),
    ("failOpen as a string", _set([0, "spec", "wasm", 0, "failOpen"], "false")),
    ("no target (CEL)", _del([0, "spec", "targetRefs"])),
    ("a Service target (CEL)", _set([0, "spec", "targetRefs", 0, "kind"], "Service")),
    ("a pull policy Never (enum)", _set([0, "spec", "wasm", 0, "code", "pullPolicy"], "Never")),
    ("the filters in the wrong order", lambda d: d[0]["spec"]["wasm"].reverse()),
    ("fail open", _set([0, "spec", "wasm", 1, "failOpen"], True)),
    ("a config Envoy's pre-function does not have", _set([0, "spec", "wasm", 0, "config"], {"access": ["x = 1"]})),
]


def no_placeholder_left(text, what):
    """The only placeholder is the registry host (comments name it as such)."""
    if re.search(r"<[A-Z_]+>|TODO|FIXME", text):
        raise ManifestError(f"{what}: a placeholder or TODO is left in the file")
