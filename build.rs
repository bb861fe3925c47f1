//! Embeds the Lua modules of `src/lua/modules/*.lua` (see `src/lua/modules/mod.rs`) in
//! a smaller form: each file stripped of comments and blanks with its lines kept
//! (`strip.rs`), then compressed as a DEFLATE stream of its own, so that a `require`
//! inflates only its module. Writes to OUT_DIR:
//! - `lua_modules.deflate`: the compressed files, one after the other;
//! - `lua_modules.rs`: `FILES` (file stem, start, end of its stream in that blob,
//!   length of the stripped text).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/lua/modules/strip.rs"]
mod strip;

const DIR: &str = "src/lua/modules";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={DIR}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("src/lua/modules is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    files.sort();
    let mut packed = Vec::new();
    let mut table = String::from("/// (file stem, start, end, inflated length) of each module's stream.\npub const FILES: &[(&str, usize, usize, usize)] = &[\n");
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = strip::strip(&source);
        let start = packed.len();
        packed.extend(miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 10));
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("UTF-8 file name");
        writeln!(table, "    ({stem:?}, {start}, {}, {}),", packed.len(), text.len()).unwrap();
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    write(&out.join("lua_modules.deflate"), &packed);
    write(&out.join("lua_modules.rs"), table.as_bytes());
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
