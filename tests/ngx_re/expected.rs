// What OpenResty printed for `tests/ngx_re/cases.lua` (`openresty.txt`), with the lines
// of `pcre2.txt` in place of those PCRE1 answers differently from PCRE2 (Kong's build);
// tests/ngx_re.rs says where each comes from. Included by that test and by the library's
// own (`src/lua/modules/tests.rs`), which run the same cases.
fn ngx_re_expected() -> Vec<String> {
    let is_case = |l: &&str| !l.starts_with('#') && !l.trim().is_empty();
    let label = |l: &str| l.split(" -> ").next().unwrap_or(l).split(" error: ").next().unwrap_or(l).to_string();
    let mut lines: Vec<String> = include_str!("openresty.txt").lines().filter(is_case).map(str::to_owned).collect();
    for line in include_str!("pcre2.txt").lines().filter(is_case) {
        let at = lines.iter().position(|l| label(l) == label(line));
        let at = at.unwrap_or_else(|| panic!("pcre2.txt: no case {:?} in openresty.txt", label(line)));
        lines[at] = line.to_owned();
    }
    lines
}
