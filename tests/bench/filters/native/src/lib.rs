//! Baseline B1 of the benchmark: scenarios S1 (custom-auth) and S2 (header work) written
//! by hand in Rust against the proxy-wasm SDK: what the same logic costs without Lua.
//! The plugin configuration is the scenario name, `s1` or `s2`.

#[cfg(target_arch = "wasm32")]
mod filter {
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, ContextType, LogLevel};

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Warn);
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NativeRoot { scenario: Scenario::CustomAuth }) });
    }}

    #[derive(Clone, Copy)]
    enum Scenario {
        CustomAuth,
        HeaderWork,
    }

    struct NativeRoot {
        scenario: Scenario,
    }

    impl Context for NativeRoot {}

    impl RootContext for NativeRoot {
        fn on_configure(&mut self, _size: usize) -> bool {
            let config = self.get_plugin_configuration().unwrap_or_default();
            self.scenario = match config.as_slice() {
                b"s1" => Scenario::CustomAuth,
                b"s2" => Scenario::HeaderWork,
                _ => return false,
            };
            true
        }

        fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Native { scenario: self.scenario }))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    struct Native {
        scenario: Scenario,
    }

    impl Context for Native {}

    /// S2's normalisation: trimmed and lowercased.
    fn normalized(value: Option<String>) -> String {
        value.unwrap_or_default().trim().to_ascii_lowercase()
    }

    impl HttpContext for Native {
        fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
            match self.scenario {
                Scenario::CustomAuth => {
                    if self.get_http_request_header("x-custom-auth").is_none() {
                        self.send_http_response(401, vec![], Some(b"Invalid Credentials"));
                        return Action::Pause;
                    }
                    self.set_http_request_header("x-custom-auth", None);
                }
                Scenario::HeaderWork => {
                    let names = ["x-user", "x-tenant", "x-region", "x-trace", "accept"];
                    let parts: Vec<String> = names.iter().map(|n| normalized(self.get_http_request_header(n))).collect();
                    self.set_http_request_header("x-user-id", Some(&parts[0]));
                    self.set_http_request_header("x-tenant-id", Some(&format!("{}/{}", parts[1], parts[2])));
                    self.set_http_request_header("x-trace-id", Some(&parts[3]));
                }
            }
            Action::Continue
        }

        fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
            if let Scenario::HeaderWork = self.scenario {
                self.set_http_response_header("x-served-by", Some("kong-functions"));
                self.set_http_response_header("x-cache", Some("miss"));
            }
            Action::Continue
        }
    }
}
