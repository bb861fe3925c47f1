//! `wasm-harness oci`: a Wasm module as an OCI image layout, the form Istio's
//! `WasmPlugin` and Envoy Gateway's `EnvoyExtensionPolicy` pull (`url: oci://...`,
//! `code.type: Image`), written without a registry; users push it with their own tool.
//!
//! Which form: both fetchers (Istio `pkg/wasm/imagefetcher.go`, Envoy Gateway
//! `internal/wasm/imagefetcher.go`, the same code) accept three image forms: a Docker
//! schema-2 image whose last layer (`application/vnd.docker.image.rootfs.diff.tar.gzip`)
//! holds `plugin.wasm`; an OCI image whose last layer
//! (`application/vnd.oci.image.layer.v1.tar+gzip`) holds `plugin.wasm` (solo-io's
//! "compat" variant); and solo-io's artifact variant, exactly two layers, one of them
//! `application/vnd.module.wasm.content.layer.v1+wasm`. The CNCF Wasm artifact
//! (`application/vnd.wasm.content.layer.v1+wasm`) is accepted by neither. We write the
//! OCI compat form: it is a plain OCI image (image-spec `manifest.md`, `config.md`,
//! `layer.md`), so any OCI tool copies it to any registry, and Envoy Gateway's
//! "Build a Wasm image" task documents that form (one layer with `plugin.wasm`).
//!
//! Layout (image-spec `image-layout.md`): `oci-layout`, `index.json` (an image index
//! naming one manifest, `org.opencontainers.image.ref.name` = the tag),
//! `blobs/sha256/<hex>` for the layer, the config and the manifest. Output is
//! deterministic: tar entries with mtime 0, uid/gid 0, a gzip header without a time,
//! JSON with sorted keys; the same module gives the same bytes and digests.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// image-spec `image-index.md`.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// image-spec `manifest.md`.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// image-spec `config.md`.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// image-spec `layer.md`: a gzip-compressed tar; the media type Istio's and Envoy
/// Gateway's `extractOCIStandardImage` require of the last layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The file the fetchers look for in the layer (`extractWasmPluginBinary`).
pub const PLUGIN_FILE: &str = "plugin.wasm";
/// `org.opencontainers.image.ref.name`: the tag of the manifest in `index.json`.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// What to write.
#[derive(Debug, Clone)]
pub struct OciOptions {
    /// The tag, as `index.json`'s `org.opencontainers.image.ref.name` (e.g. `latest`).
    pub tag: String,
    /// Manifest annotations (`org.opencontainers.image.*`); may be empty.
    pub annotations: Vec<(String, String)>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct OciLayout {
    /// The layout directory.
    pub dir: PathBuf,
    /// `sha256:<hex>` of the manifest: what a registry will list for the pushed image.
    pub manifest_digest: String,
    /// Size in bytes of the gzip layer blob.
    pub layer_size: usize,
}

/// `sha256:<hex>` of `bytes` (image-spec `descriptor.md`, "Digests").
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Writes `module` as an OCI image layout into `dir`. An existing `dir` is replaced only
/// when it already is an OCI layout (holds `oci-layout`) or is empty; anything else is an
/// error, so a wrong path never deletes a user's files.
pub fn write_layout(module: &[u8], dir: &Path, options: &OciOptions) -> io::Result<OciLayout> {
    if dir.exists() {
        let is_layout = dir.join("oci-layout").is_file();
        let is_empty = dir.read_dir()?.next().is_none();
        if !is_layout && !is_empty {
            return Err(io::Error::other(format!(
                "{}: exists and is not an OCI image layout; refusing to replace it",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir)?;
    }
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs)?;

    let layer_tar = tar_archive(&[TarEntry::file(PLUGIN_FILE, module)])?;
    let layer = gzip(&layer_tar);
    let config = to_json(&json!({
        // Go's GOARCH/GOOS names for a WASI preview-1 module (config.md: values SHOULD
        // be Go's); the fetchers read only the layers.
        "architecture": "wasm",
        "os": "wasip1",
        "rootfs": { "type": "layers", "diff_ids": [sha256_digest(&layer_tar)] },
    }))?;
    let annotations: serde_json::Map<String, Value> =
        options.annotations.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": descriptor(CONFIG_MEDIA_TYPE, &config),
        "layers": [descriptor(LAYER_MEDIA_TYPE, &layer)],
    });
    if !annotations.is_empty() {
        manifest["annotations"] = Value::Object(annotations);
    }
    let manifest = to_json(&manifest)?;
    let mut manifest_descriptor = descriptor(MANIFEST_MEDIA_TYPE, &manifest);
    manifest_descriptor["annotations"] = json!({ REF_NAME_ANNOTATION: options.tag });
    let index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [manifest_descriptor],
    }))?;

    for blob in [&layer, &config, &manifest] {
        let digest = sha256_digest(blob);
        std::fs::write(blobs.join(&digest["sha256:".len()..]), blob)?;
    }
    std::fs::write(dir.join("oci-layout"), to_json(&json!({ "imageLayoutVersion": "1.0.0" }))?)?;
    std::fs::write(dir.join("index.json"), &index)?;
    Ok(OciLayout { dir: dir.to_path_buf(), manifest_digest: sha256_digest(&manifest), layer_size: layer.len() })
}

/// The layout directory as one tar (`oci-layout`, `index.json`, `blobs/...` at its
/// root): what `skopeo copy oci-archive:FILE ...` and `podman load` read.
pub fn write_layout_tar(dir: &Path, tar_path: &Path) -> io::Result<()> {
    let mut entries = Vec::new();
    collect(dir, dir, &mut entries)?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let entries: Vec<TarEntry> = entries
        .iter()
        .map(|(name, data)| match data {
            Some(bytes) => TarEntry::file(name, bytes),
            None => TarEntry::dir(name),
        })
        .collect();
    std::fs::write(tar_path, tar_archive(&entries)?)
}

/// `(path relative to root with '/', Some(contents) for a file or None for a directory)`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Option<Vec<u8>>)>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let rel = path.strip_prefix(root).map_err(io::Error::other)?;
        let name = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
        if path.is_dir() {
            out.push((format!("{name}/"), None));
            collect(root, &path, out)?;
        } else {
            out.push((name, Some(std::fs::read(&path)?)));
        }
    }
    Ok(())
}

fn descriptor(media_type: &str, blob: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": sha256_digest(blob), "size": blob.len() })
}

fn to_json(value: &Value) -> io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(io::Error::other)
}

/// One tar member.
struct TarEntry<'a> {
    name: &'a str,
    data: &'a [u8],
    dir: bool,
}

impl<'a> TarEntry<'a> {
    fn file(name: &'a str, data: &'a [u8]) -> Self {
        TarEntry { name, data, dir: false }
    }
    fn dir(name: &'a str) -> Self {
        TarEntry { name, data: &[], dir: true }
    }
}

/// A POSIX ustar archive (POSIX.1-1988 `ustar` header, as GNU tar and Go's
/// `archive/tar` read it): 512-byte headers, data padded to 512, two zero blocks at the
/// end. Names must fit the 100-byte name field (ours are at most 77 bytes).
fn tar_archive(entries: &[TarEntry]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for entry in entries {
        if entry.name.len() > 100 {
            return Err(io::Error::other(format!("tar name too long: {}", entry.name)));
        }
        let mut header = [0u8; 512];
        header[..entry.name.len()].copy_from_slice(entry.name.as_bytes());
        octal(&mut header[100..108], if entry.dir { 0o755 } else { 0o644 });
        octal(&mut header[108..116], 0); // uid
        octal(&mut header[116..124], 0); // gid
        octal(&mut header[124..136], entry.data.len() as u64);
        octal(&mut header[136..148], 0); // mtime: fixed, for reproducible output
        header[156] = if entry.dir { b'5' } else { b'0' };
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        // Checksum: the sum of the header's bytes with the checksum field as spaces,
        // written as six octal digits, NUL, space.
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(entry.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    Ok(out)
}

/// Writes `value` as zero-padded octal digits and a NUL into `field`.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let digits = format!("{value:0width$o}");
    field[..width].copy_from_slice(digits.as_bytes());
    field[width] = 0;
}

/// RFC 1952 gzip: a 10-byte header without a file name or time (MTIME 0, OS 255
/// "unknown"), the DEFLATE stream (miniz_oxide, level 9), CRC-32 and size mod 2^32.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 9));
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_through_inflate() {
        let data = b"plugin bytes plugin bytes plugin bytes".repeat(100);
        let gz = gzip(&data);
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
        let inflated = miniz_oxide::inflate::decompress_to_vec(&gz[10..gz.len() - 8]).expect("inflate");
        assert_eq!(inflated, data);
        assert_eq!(&gz[gz.len() - 4..], &(data.len() as u32).to_le_bytes());
    }

    #[test]
    fn tar_header_checksum_and_padding() {
        let tar = tar_archive(&[TarEntry::file("plugin.wasm", b"\0asm\x01\0\0\0")]).expect("tar");
        // One header, one data block, two zero blocks.
        assert_eq!(tar.len(), 512 * 4);
        let mut header = tar[..512].to_vec();
        let stored = u32::from_str_radix(std::str::from_utf8(&header[148..154]).expect("octal"), 8).expect("octal");
        header[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, header.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert_eq!(&tar[512..520], b"\0asm\x01\0\0\0");
    }
}
