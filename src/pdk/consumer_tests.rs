//! `kong.client.authenticate`, `get_consumer`, `get_credential`, the consumer-group
//! functions and `load_consumer`. Messages and behaviour from Kong's
//! `kong/pdk/client.lua` (3.4, the last open-source version with the group functions) and
//! Kong's `t/01-pdk/06-client/` tests.

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};

fn runtime(host: &Rc<FakeHost>, role: Role, phase: Phase, source: &str) -> Runtime {
    let config = PluginConfig::parse(serde_json::json!({ phase.name(): [source] }).to_string().as_bytes()).unwrap();
    Runtime::new(&config, role, host.clone()).unwrap()
}

fn run(phase: Phase, source: &str) -> (PhaseOutcome, Vec<String>) {
    let host = Rc::new(FakeHost::default().with_property("plugin_vm_id", ""));
    let outcome = runtime(&host, Role::PreFunction, phase, source).run_phase(phase, &mut RequestState::default());
    (outcome, host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect())
}

#[test]
fn authenticate_checks_its_arguments_as_kong() {
    let (outcome, out) = run(Phase::Access, r##"
        kong.log.info(pcall(kong.client.authenticate))
        kong.log.info(pcall(kong.client.authenticate, "bob"))
        kong.log.info(pcall(kong.client.authenticate, nil, 1))
        kong.log.info(pcall(kong.client.authenticate, {}, "c"))
    "##);
    assert_eq!(outcome, PhaseOutcome::Continue);
    assert_eq!(out, [
        "falseeither credential or consumer must be provided",
        "falseconsumer must be a table or nil",
        "falsecredential must be a table or nil",
        "falsecredential must be a table or nil",
    ]);
}

#[test]
fn authenticate_sets_ngx_ctx_and_the_getters_read_it() {
    let (outcome, out) = run(Phase::Access, r##"
        kong.log.info(tostring(kong.client.get_consumer()), " ", tostring(kong.client.get_credential()))
        local consumer, credential = { id = "c1", username = "bob" }, { id = "k1" }
        kong.client.authenticate(consumer, credential)
        kong.log.info(kong.client.get_consumer() == consumer, " ", kong.client.get_credential() == credential,
          " ", ngx.ctx.authenticated_consumer == consumer)
        kong.client.authenticate(nil, credential)
        kong.log.info(tostring(kong.client.get_consumer()))
        ngx.ctx.authenticated_consumer = { username = "set directly" }
        kong.log.info(kong.client.get_consumer().username)
    "##);
    assert_eq!(outcome, PhaseOutcome::Continue, "{out:?}");
    assert_eq!(out, ["nil nil", "true true true", "nil", "set directly"]);
}

#[test]
fn phases_are_kongs() {
    // authenticate: access only; get_consumer: AUTH_AND_LATER (not rewrite).
    let (outcome, out) = run(Phase::Rewrite, "kong.client.get_consumer()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert!(out[0].contains("function cannot be called in rewrite phase"), "{out:?}");
    let (outcome, out) = run(Phase::Log, "kong.client.authenticate({})");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert!(out[0].contains("function cannot be called in log phase"), "{out:?}");
}

#[test]
fn consumer_groups_sort_by_name_and_check_types() {
    let (outcome, out) = run(Phase::Access, r##"
        kong.log.info(tostring(kong.client.get_consumer_groups()))
        kong.client.set_authenticated_consumer_groups({ { id = "2", name = "silver" }, { id = "1", name = "gold" } })
        local groups = kong.client.get_consumer_groups()
        kong.log.info(groups[1].name, " ", groups[2].name)
        kong.log.info(pcall(kong.client.set_authenticated_consumer_groups, "gold"))
        kong.client.authenticate_consumer_group_by_consumer_id("c1")
        kong.log.info(kong.client.get_consumer_groups()[1].name)
        kong.log.info(pcall(kong.client.authenticate_consumer_group_by_consumer_id, 1))
        kong.client.set_authenticated_consumer_group({ name = "single" })
        kong.log.info(kong.client.get_consumer_group().name)
        kong.client.set_authenticated_consumer_groups(nil)
        kong.log.info(tostring(kong.client.get_consumer_groups()))
    "##);
    assert_eq!(outcome, PhaseOutcome::Continue, "{out:?}");
    assert_eq!(out, [
        "nil",
        "gold silver",
        "falseconsumer group must be a table or nil",
        "gold",
        "falseconsumer_id must be a sting or nil",
        "this function is deprecated in favor of `set_authenticated_consumer_groups`.Note that setting a consumer_group using this function will not affect the plugin execution logic. (deprecated after 3.4.0.0, scheduled for removal in 3.5.0.0)",
        "this function is deprecated in favor of `get_consumer_groups` (deprecated after 3.4.0.0, scheduled for removal in 3.5.0.0)",
        "single",
        "nil",
    ]);
}

#[test]
fn load_consumer_checks_then_has_no_database() {
    let (outcome, out) = run(Phase::Access, r##"
        kong.log.info(pcall(kong.client.load_consumer, 1))
        kong.log.info(pcall(kong.client.load_consumer, "bob"))
        kong.log.info(kong.client.load_consumer("bob", true))
    "##);
    assert_eq!(outcome, PhaseOutcome::Continue, "{out:?}");
    assert_eq!(out[0], "falseconsumer_id must be a string");
    assert_eq!(out[1], "falsecannot load a consumer with an id that is not a uuid");
    assert!(out[2].starts_with("nilkong.client.load_consumer: no database"), "{out:?}");
}

#[test]
fn the_consumer_crosses_from_pre_to_post_function() {
    // Kong keeps the consumer in ngx.ctx, which every plugin of the request shares.
    let host = Rc::new(FakeHost::default().with_property("plugin_vm_id", ""));
    let mut pre = runtime(&host, Role::PreFunction, Phase::Access,
        "kong.client.authenticate({ id = 'c1', username = 'bob' }, { key = 'k' })");
    let mut post = runtime(&host, Role::PostFunction, Phase::Log,
        "local c = kong.client.get_consumer() kong.log.info(c.username, ' ', kong.client.get_credential().key, ' ', c == kong.client.get_consumer())");
    // Each filter keeps its own request state (its own stream context on a host).
    assert_eq!(pre.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue);
    assert_eq!(post.run_phase(Phase::Log, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[post-function] bob k true"]);
}
