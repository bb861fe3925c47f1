//! A request held while a `rewrite`/`access` chunk waits on an outbound call
//! (`resty.http` over `proxy_http_call`, `crate::pdk::callout`).
//!
//! The phase suspends inside the chunk; the callback that ran it returns `Pause`. The
//! call's answer comes in `proxy_on_http_call_response` (Envoy calls it on the root
//! context; the SDK's dispatcher hands it to the stream that made the call, the
//! effective context set to it): the stream reads the answer, resumes the chunk, runs
//! the rest of the request phases, and resumes the request (`proxy_continue_stream`)
//! or sends the local response the chunks asked for.

use super::{Flow, Stream};
use crate::host::LogLevel;
use crate::pdk::callout::{answer_from, Answer, Wait};
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, PhaseRun, SuspendedPhase};

/// A request phase waiting on the host.
pub struct Suspended {
    phase: SuspendedPhase,
    /// The phase after `rewrite` (`access`, or `ws_handshake`).
    second: Phase,
    /// The size of the request body the host holds (0 when the phases ran on headers).
    buffered_size: usize,
}

impl Stream {
    /// Runs request phase `phase`, which may suspend: `None` when it did (the stream
    /// keeps it, and the callback returns `Pause`).
    pub(super) fn run_suspendable(&mut self, phase: Phase, buffered_size: usize, second: Phase) -> Option<PhaseOutcome> {
        if self.callback_started {
            self.callback_started = false;
            self.request.view.new_callback();
        }
        let Some(runtime) = self.runtime.clone() else { return Some(PhaseOutcome::Continue) };
        if let Some(view) = &self.view {
            view.set_writable(self.writable_in(phase));
        }
        let run = runtime.borrow_mut().run_phase_suspendable(phase, &mut self.request);
        self.settle(run, second, buffered_size)
    }

    fn settle(&mut self, run: PhaseRun, second: Phase, buffered_size: usize) -> Option<PhaseOutcome> {
        match run {
            PhaseRun::Done(outcome) => Some(outcome),
            PhaseRun::Suspended(phase) => {
                self.suspended = Some(Suspended { phase, second, buffered_size });
                None
            }
        }
    }

    /// `proxy_on_http_call_response` for call `token`: resumes the chunk waiting on it
    /// with the answer (`body_size` bytes of body), then the rest of the request phases;
    /// the request goes on (`proxy_continue_stream`) or gets the chunks' local response.
    /// An answer no chunk waits on (the request already ended) is ignored.
    pub fn on_http_call_response(&mut self, token: u32, body_size: usize) {
        self.callback_started = true;
        if !self.waits_on_call(token) {
            return;
        }
        let Some(Suspended { phase, second, buffered_size }) = self.suspended.take() else { return };
        let Wait::HttpCall { host, started_ns, .. } = &phase.wait else { return };
        let waited_ms = self.host.now_nanos().saturating_sub(*started_ns) / 1_000_000;
        self.request.call_wait_ms += waited_ms;
        let limit = crate::lua::limits::current().call_response_bytes;
        let answer = if body_size > limit {
            Answer::Failure(format!("response body too large ({body_size} bytes, limit {limit})"))
        } else {
            let (headers, body) = self.host.http_call_response(body_size);
            answer_from(headers, body, host, self.behaviour.call_failures_as_replies)
        };
        let flow = self.resume_request_phases(phase, answer, second, buffered_size);
        self.go_on(flow, "an outbound call");
    }

    /// Whether a chunk of this stream waits on the answer to call `token`.
    pub fn waits_on_call(&self, token: u32) -> bool {
        matches!(&self.suspended, Some(s) if matches!(&s.phase.wait, Wait::HttpCall { token: t, .. } if *t == token))
    }

    /// Whether a chunk of this stream sleeps (`ngx.sleep`): a tick must wake it.
    pub fn waits_on_tick(&self) -> bool {
        matches!(&self.suspended, Some(s) if matches!(s.phase.wait, Wait::Sleep { .. }))
    }

    /// A tick of the plugin instance: wakes a sleeping chunk whose sleep is over, then
    /// runs the rest of the request phases as after a call's answer.
    pub fn on_tick(&mut self) {
        let now = self.host.now_nanos();
        let due = matches!(&self.suspended, Some(s) if matches!(s.phase.wait, Wait::Sleep { until_ns, .. } if now >= until_ns));
        if !due {
            return;
        }
        let Some(Suspended { phase, second, buffered_size }) = self.suspended.take() else { return };
        self.callback_started = true;
        self.request.call_wait_ms += now.saturating_sub(phase.wait.started_ns()) / 1_000_000;
        let flow = self.resume_request_phases(phase, Answer::Woken, second, buffered_size);
        self.go_on(flow, "ngx.sleep");
    }

    /// After the request phases finished on a resume: the request goes on
    /// (`proxy_continue_stream`), its headers kept first where the host drops them once
    /// they continue, as after a callback that returned `Continue`.
    fn go_on(&mut self, flow: Flow, after: &str) {
        if flow != Flow::Continue || self.responded_locally {
            return;
        }
        self.keep_request_headers();
        if !self.host.resume_request() {
            self.host.log(LogLevel::Error, &format!("kong-functions: the host refused to resume the request after {after}"));
        }
    }

    /// Continues the suspended `phase` with `answer`, then the request phases after it.
    fn resume_request_phases(&mut self, phase: SuspendedPhase, answer: Answer, second: Phase, buffered_size: usize) -> Flow {
        let Some(runtime) = self.runtime.clone() else { return Flow::Continue };
        let current = phase.phase;
        if self.callback_started {
            self.callback_started = false;
            self.request.view.new_callback();
        }
        if let Some(view) = &self.view {
            view.set_writable(self.writable_in(current));
        }
        let run = runtime.borrow_mut().resume_phase(phase, answer, &mut self.request);
        let mut outcome = self.settle(run, second, buffered_size);
        let mut next = (current == Phase::Rewrite).then_some(second);
        loop {
            match outcome {
                None => return Flow::Pause,
                Some(PhaseOutcome::Exited) => return self.respond_with_exit(true),
                Some(PhaseOutcome::Failed) => return self.fail_request(),
                Some(PhaseOutcome::Continue) => {}
            }
            match next.take() {
                Some(phase) => outcome = self.run_suspendable(phase, buffered_size, second),
                None => return self.finish_request_phases(buffered_size),
            }
        }
    }
}

#[cfg(test)]
#[path = "callout_tests.rs"]
mod tests;
