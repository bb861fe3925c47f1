//! `wasm-harness oci`: the written image layout checked against the OCI image spec
//! (github.com/opencontainers/image-spec v1.1: `image-layout.md`, `image-index.md`,
//! `manifest.md`, `descriptor.md`, `config.md`, `layer.md`), the checks written here
//! from the spec's text, and against what Istio's and Envoy Gateway's Wasm fetchers
//! (`pkg/wasm/imagefetcher.go`, `internal/wasm/imagefetcher.go`) extract from an image:
//! the last layer `application/vnd.oci.image.layer.v1.tar+gzip`, a tar.gz holding a
//! file whose base name is `plugin.wasm`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasm-harness")).args(args).output().expect("run wasm-harness")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasm-harness-oci-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shipped module when it is built (`make build`; `KONG_FUNCTIONS_WASM` under
/// `make test`), else a small valid module: the layout does not depend on the contents.
fn module() -> (PathBuf, Vec<u8>) {
    let shipped = std::env::var_os("KONG_FUNCTIONS_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/kong_functions.wasm"));
    if shipped.is_file() {
        let bytes = std::fs::read(&shipped).unwrap();
        return (shipped, bytes);
    }
    // The empty module (magic, version 1), then a custom section "x" of 1,000 bytes so
    // the layer spans more than one tar block.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[0, 0xea, 0x07, 1, b'x']);
    bytes.extend(std::iter::repeat_n(7u8, 1000));
    let path = temp_dir("module").join("small.wasm");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// descriptor.md, "Properties" and "Digests": `mediaType` (RFC 6838 grammar), `digest`
/// (`algorithm:encoded`; sha256 is `[a-f0-9]{64}`), `size` (int64 bytes), optional
/// `annotations` (string to string). The blob it names must exist under
/// `blobs/<alg>/<encoded>` (image-layout.md) with that size and digest. Returns the blob.
fn check_descriptor(layout: &Path, d: &Value, what: &str) -> Vec<u8> {
    let obj = d.as_object().unwrap_or_else(|| panic!("{what}: a descriptor is an object"));
    let media_type = obj.get("mediaType").and_then(Value::as_str).unwrap_or_else(|| panic!("{what}: mediaType"));
    assert!(is_rfc6838_media_type(media_type), "{what}: mediaType {media_type:?} is not RFC 6838");
    let digest = obj.get("digest").and_then(Value::as_str).unwrap_or_else(|| panic!("{what}: digest"));
    let (alg, encoded) = digest.split_once(':').unwrap_or_else(|| panic!("{what}: digest {digest:?}"));
    assert_eq!(alg, "sha256", "{what}: the algorithm we write");
    assert!(encoded.len() == 64 && encoded.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{what}: {digest}");
    let size = obj.get("size").and_then(Value::as_i64).unwrap_or_else(|| panic!("{what}: size is an integer"));
    if let Some(annotations) = obj.get("annotations") {
        let map = annotations.as_object().unwrap_or_else(|| panic!("{what}: annotations is a map"));
        assert!(map.values().all(Value::is_string), "{what}: annotation values are strings");
    }
    let blob = std::fs::read(layout.join("blobs").join(alg).join(encoded)).unwrap_or_else(|e| panic!("{what}: blob {digest}: {e}"));
    assert_eq!(blob.len() as i64, size, "{what}: size matches the blob");
    assert_eq!(sha256_hex(&blob), encoded, "{what}: digest matches the blob");
    blob
}

/// RFC 6838 section 4.2: `type-name "/" subtype-name`, each a restricted-name:
/// 1 to 127 characters, the first alphanumeric, the rest alphanumeric or `!#$&-^_.+`.
fn is_rfc6838_media_type(s: &str) -> bool {
    fn restricted_name(n: &str) -> bool {
        let b = n.as_bytes();
        (1..=127).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(c))
    }
    matches!(s.split_once('/'), Some((t, sub)) if restricted_name(t) && restricted_name(sub))
}

/// RFC 1952: the member header (with its optional fields), the DEFLATE data, then
/// CRC-32 and ISIZE, both checked.
fn gunzip(gz: &[u8]) -> Vec<u8> {
    assert!(gz.len() >= 18 && gz[0] == 0x1f && gz[1] == 0x8b && gz[2] == 8, "gzip magic and CM=8");
    let flags = gz[3];
    let mut at = 10;
    if flags & 4 != 0 {
        at += 2 + usize::from(u16::from_le_bytes([gz[at], gz[at + 1]]));
    }
    for bit in [8, 16] {
        if flags & bit != 0 {
            at += gz[at..].iter().position(|&b| b == 0).expect("NUL-terminated field") + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    let data = miniz_oxide::inflate::decompress_to_vec(&gz[at..gz.len() - 8]).expect("DEFLATE data");
    let trailer = &gz[gz.len() - 8..];
    assert_eq!(u32::from_le_bytes(trailer[..4].try_into().unwrap()), crc32fast::hash(&data), "gzip CRC-32");
    assert_eq!(u32::from_le_bytes(trailer[4..].try_into().unwrap()), data.len() as u32, "gzip ISIZE");
    data
}

/// POSIX ustar members (name, typeflag, contents), each header's checksum verified;
/// stops at the first zero block.
fn untar(tar: &[u8]) -> Vec<(String, u8, Vec<u8>)> {
    let octal = |field: &[u8]| -> usize {
        let s = std::str::from_utf8(field).unwrap().trim_matches(|c| c == '\0' || c == ' ');
        usize::from_str_radix(s, 8).unwrap_or_else(|_| panic!("octal field {s:?}"))
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= tar.len() && tar[at..at + 512].iter().any(|&b| b != 0) {
        let header = &tar[at..at + 512];
        assert_eq!(&header[257..262], b"ustar", "ustar magic");
        let mut blanked = header.to_vec();
        blanked[148..156].copy_from_slice(b"        ");
        assert_eq!(octal(&header[148..156]), blanked.iter().map(|&b| b as usize).sum::<usize>(), "header checksum");
        let name_len = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = String::from_utf8(header[..name_len].to_vec()).unwrap();
        let size = octal(&header[124..136]);
        out.push((name, header[156], tar[at + 512..at + 512 + size].to_vec()));
        at += 512 + size.div_ceil(512) * 512;
    }
    assert!(tar[at..].iter().all(|&b| b == 0) && tar.len() - at >= 1024, "two zero blocks end the archive");
    out
}

/// Checks the layout at `layout` end to end; returns the manifest digest.
fn check_layout(layout: &Path, module: &[u8], tag: &str) -> String {
    // image-layout.md: `oci-layout` holds `imageLayoutVersion` "1.0.0".
    let oci_layout: Value = serde_json::from_slice(&std::fs::read(layout.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(oci_layout["imageLayoutVersion"], "1.0.0");

    // image-layout.md: `index.json` is an image index (image-index.md): schemaVersion 2,
    // mediaType (SHOULD) application/vnd.oci.image.index.v1+json, `manifests` descriptors.
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    let manifests = index["manifests"].as_array().expect("index.manifests is an array");
    assert_eq!(manifests.len(), 1, "one image");
    let descriptor = &manifests[0];
    assert_eq!(descriptor["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    // annotations.md: the tag is `org.opencontainers.image.ref.name`.
    assert_eq!(descriptor["annotations"]["org.opencontainers.image.ref.name"], tag);
    let manifest_bytes = check_descriptor(layout, descriptor, "index.manifests[0]");

    // manifest.md: schemaVersion 2, mediaType, `config` descriptor, `layers` descriptors.
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    let config_bytes = check_descriptor(layout, &manifest["config"], "manifest.config");
    let layers = manifest["layers"].as_array().expect("manifest.layers is an array");
    // The compat form the fetchers read: one layer (Envoy Gateway's "Build a Wasm image":
    // "only one layer"), and the last layer is what they extract.
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
    let layer = check_descriptor(layout, &layers[0], "manifest.layers[0]");
    if let Some(annotations) = manifest.get("annotations") {
        assert!(annotations.as_object().expect("a map").values().all(Value::is_string));
    }

    // config.md: architecture, os, rootfs {type "layers", diff_ids: the digests of the
    // uncompressed layers, in order}.
    let config: Value = serde_json::from_slice(&config_bytes).unwrap();
    assert!(config["architecture"].is_string() && config["os"].is_string(), "{config}");
    assert_eq!(config["rootfs"]["type"], "layers");
    let tar = gunzip(&layer);
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!([format!("sha256:{}", sha256_hex(&tar))]));

    // layer.md and the fetchers' extractWasmPluginBinary: a tar with `plugin.wasm`.
    let members = untar(&tar);
    assert_eq!(members.len(), 1, "{:?}", members.iter().map(|m| &m.0).collect::<Vec<_>>());
    assert_eq!(members[0].0, "plugin.wasm");
    assert_eq!(members[0].1, b'0', "a regular file");
    assert!(members[0].2 == module, "plugin.wasm is the module, byte for byte");

    // Every blob in the layout is one the index reaches (no stale blobs).
    let mut blobs: Vec<String> = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    blobs.sort();
    let mut reached = vec![sha256_hex(&manifest_bytes), sha256_hex(&config_bytes), sha256_hex(&layer)];
    reached.sort();
    assert_eq!(blobs, reached);
    format!("sha256:{}", sha256_hex(&manifest_bytes))
}

#[test]
fn the_layout_meets_the_image_spec_and_holds_the_module_as_plugin_wasm() {
    let (module_path, module) = module();
    let dir = temp_dir("layout");
    let layout = dir.join("kong-functions");
    let tar = dir.join("kong-functions.tar");
    let out = harness(&[
        "oci",
        module_path.to_str().unwrap(),
        "--out",
        layout.to_str().unwrap(),
        "--tar",
        tar.to_str().unwrap(),
        "--tag",
        "0.1.0",
        "--annotation",
        "org.opencontainers.image.title=kong-functions",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let digest = check_layout(&layout, &module, "0.1.0");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), digest, "stdout is the manifest digest");

    // The tarball holds the same layout at its root (skopeo's oci-archive).
    let members: BTreeMap<String, Vec<u8>> =
        untar(&std::fs::read(&tar).unwrap()).into_iter().filter(|m| m.1 == b'0').map(|m| (m.0, m.2)).collect();
    let unpacked = dir.join("unpacked");
    for (name, bytes) in &members {
        let path = unpacked.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    assert_eq!(members.len(), 5, "oci-layout, index.json, three blobs: {:?}", members.keys());
    assert_eq!(check_layout(&unpacked, &module, "0.1.0"), digest);

    // GNU tar and gzip (when installed) read the layer too: an independent reader.
    let layer_digest = {
        let manifest: Value = serde_json::from_slice(&members[&format!("blobs/sha256/{}", &digest[7..])]).unwrap();
        manifest["layers"][0]["digest"].as_str().unwrap()[7..].to_string()
    };
    if let Ok(listed) = Command::new("tar").arg("-tzf").arg(layout.join("blobs/sha256").join(&layer_digest)).output() {
        assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
        assert_eq!(String::from_utf8_lossy(&listed.stdout), "plugin.wasm\n");
    }
    // skopeo (containers/image; when installed) reads the layout and the archive as an
    // image and names the same manifest digest.
    for source in [format!("oci:{}:0.1.0", layout.display()), format!("oci-archive:{}", tar.display())] {
        if let Ok(inspected) = Command::new("skopeo").args(["inspect", &source]).output() {
            assert!(inspected.status.success(), "{source}: {}", String::from_utf8_lossy(&inspected.stderr));
            let info: Value = serde_json::from_slice(&inspected.stdout).unwrap();
            assert_eq!(info["Digest"], digest.as_str(), "{source}");
            assert_eq!(info["Layers"][0], format!("sha256:{layer_digest}"), "{source}");
        }
    }
}

#[test]
fn the_output_is_reproducible_and_an_existing_layout_is_replaced() {
    let (module_path, _) = module();
    let dir = temp_dir("repro");
    let run = |out: &Path| {
        let o = harness(&["oci", module_path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let first = run(&dir.join("a"));
    let second = run(&dir.join("b"));
    assert_eq!(first, second, "the same module gives the same manifest digest");
    // Writing again over a layout replaces it (no stale blobs: check_layout checks).
    std::fs::write(dir.join("a/blobs/sha256/stale"), b"x").unwrap();
    assert_eq!(run(&dir.join("a")), first);
    assert!(!dir.join("a/blobs/sha256/stale").exists());
}

#[test]
fn refuses_a_directory_that_is_not_a_layout_and_a_file_that_is_not_wasm() {
    let (module_path, _) = module();
    let dir = temp_dir("refuse");
    std::fs::write(dir.join("precious.txt"), b"keep me").unwrap();
    let out = harness(&["oci", module_path.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an OCI image layout"));
    assert_eq!(std::fs::read(dir.join("precious.txt")).unwrap(), b"keep me");

    let not_wasm = dir.join("precious.txt");
    let out = harness(&["oci", not_wasm.to_str().unwrap(), "--out", dir.join("x").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Wasm module"));
}
