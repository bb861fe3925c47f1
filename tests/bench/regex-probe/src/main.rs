//! Native speed probe: regex::bytes vs fancy-regex on ngx.re-like patterns.
use std::time::Instant;
fn time<F: FnMut() -> usize>(name: &str, iters: u32, mut f: F) -> f64 {
    let mut sink = 0;
    for _ in 0..iters / 10 { sink += f(); }
    let t = Instant::now();
    for _ in 0..iters { sink += f(); }
    let ns = t.elapsed().as_nanos() as f64 / iters as f64;
    println!("{name:60} {ns:10.0} ns  (sink {sink})");
    ns
}
fn main() {
    let subject = "GET /api/v1/users/12345/orders?limit=10&offset=20 HTTP/1.1 x-request-id: 9f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b".repeat(4);
    let cases = [
        ("compile+match ^/api/v(\\d+)/users/(\\d+)", r"/api/v(\d+)/users/(\d+)"),
        ("match [a-f0-9]{8}-[a-f0-9]{4} (uuid)", r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}"),
        ("match limit=(\\d+)", r"limit=(\d+)"),
    ];
    for (name, pat) in cases {
        let r = regex::bytes::Regex::new(pat).unwrap();
        let f = fancy_regex::Regex::new(pat).unwrap();
        time(&format!("regex  compile {name}"), 20_000, || regex::bytes::Regex::new(pat).unwrap().captures_len());
        time(&format!("fancy  compile {name}"), 20_000, || fancy_regex::Regex::new(pat).unwrap().captures_len());
        time(&format!("regex  captures {name}"), 200_000, || r.captures(subject.as_bytes()).map_or(0, |c| c.len()));
        time(&format!("fancy  captures {name}"), 200_000, || f.captures(&subject).ok().flatten().map_or(0, |c| c.len()));
    }
    // Only fancy-regex: look-ahead and a backreference (PCRE docs' examples).
    let la = fancy_regex::Regex::new(r"\w+(?=;)").unwrap();
    let br = fancy_regex::Regex::new(r"(sens|respons)e and \1ibility").unwrap();
    time("fancy  look-ahead \\w+(?=;)", 200_000, || la.find("foo bar; baz").ok().flatten().map_or(0, |m| m.end()));
    time("fancy  backreference (sens|respons)e and \\1ibility", 200_000, || br.find("sense and sensibility").ok().flatten().map_or(0, |m| m.end()));
}
