//! When a client's kernel resends an unanswered SYN, and when `connect()` gives up: Linux's
//! rule (net/ipv4/tcp_timer.c), computed from the settings of the running kernel rather than
//! stated as one fixed schedule, because the settings differ between kernels and machines.
//!
//! The rule, for a socket in SYN_SENT:
//! - the first wait is the initial retransmission timeout, 1 s (`TCP_TIMEOUT_INIT`);
//! - after each resend the wait doubles (capped at `tcp_rto_max_ms`, 120 s by default), except
//!   for the first `tcp_syn_linear_timeouts` resends (Linux 6.5 and later; 4 by default),
//!   after which the wait stays the same;
//! - each time a wait ends, the kernel first checks whether to give up: after
//!   `tcp_syn_retries + tcp_syn_linear_timeouts` resends, or once the time since the first
//!   SYN reaches what `tcp_syn_retries` purely doubling waits would take
//!   (`tcp_model_timeout`); otherwise it resends.
//!
//! With tcp_syn_retries = 6 and tcp_syn_linear_timeouts = 4 that is 10 resends, after waits of
//! 1, 1, 1, 1, 1, 2, 4, 8, 16 and 32 s, and `connect()` fails 131 s after the first SYN; a
//! kernel without linear timeouts resends 6 times (after 1, 2, 4, 8, 16, 32 s) and gives up
//! after 127 s. Measured in network namespaces, the kernel keeps to this rule to the resend;
//! long waits end a second or more late, because the kernel's timers for long delays are
//! coarse (see the tests).

/// The first retransmission timeout of a SYN, in ms (`TCP_TIMEOUT_INIT`, RFC 6298).
pub const INITIAL_RTO_MS: u64 = 1000;

/// The cap on a retransmission timeout, in ms, where the kernel has no `tcp_rto_max_ms`
/// (kernels older than the setting): `TCP_RTO_MAX`.
pub const DEFAULT_RTO_MAX_MS: u64 = 120_000;

/// The kernel settings the schedule depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynSettings {
    /// `net.ipv4.tcp_syn_retries`.
    pub syn_retries: u64,
    /// `net.ipv4.tcp_syn_linear_timeouts`; 0 on kernels before 6.5, which lack it.
    pub linear_timeouts: u64,
    /// `net.ipv4.tcp_rto_max_ms`; [`DEFAULT_RTO_MAX_MS`] on kernels without it.
    pub rto_max_ms: u64,
}

/// What the client's kernel does while nobody answers its SYN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynSchedule {
    /// The wait before each resend, in ms (the first is the wait after the first SYN).
    pub waits_ms: Vec<u64>,
    /// When `connect()` fails with ETIMEDOUT, in ms after the first SYN.
    pub gives_up_ms: u64,
}

/// Resends beyond this many are not listed one by one (a setting of 127 would list 131).
const MAX_RESENDS: u64 = 300;

/// The schedule the rule above gives for `settings`.
pub fn schedule(settings: SynSettings) -> SynSchedule {
    let rto_max = settings.rto_max_ms.max(1);
    let max_resends = (settings.syn_retries + settings.linear_timeouts).min(MAX_RESENDS);
    let give_up_after = model_timeout_ms(settings.syn_retries, INITIAL_RTO_MS, rto_max);
    let mut waits_ms = Vec::new();
    let mut rto = INITIAL_RTO_MS.min(rto_max);
    let mut now = 0;
    loop {
        now += rto;
        let resends = waits_ms.len() as u64;
        if resends >= max_resends || (resends > 0 && now >= give_up_after) {
            return SynSchedule {
                waits_ms,
                gives_up_ms: now,
            };
        }
        waits_ms.push(rto);
        if resends + 1 > settings.linear_timeouts {
            rto = (rto * 2).min(rto_max);
        }
    }
}

/// `tcp_model_timeout`: how long `boundary` retransmissions take when every wait doubles from
/// `rto_base` up to `rto_max`.
fn model_timeout_ms(boundary: u64, rto_base: u64, rto_max: u64) -> u64 {
    let threshold = u64::from((rto_max / rto_base).max(1).ilog2());
    if boundary <= threshold {
        ((2u64 << boundary) - 1) * rto_base
    } else {
        ((2u64 << threshold) - 1) * rto_base + (boundary - threshold) * rto_max
    }
}

impl SynSchedule {
    /// `10 resends, after waits of 1, 1, 1, 1, 1, 2, 4, 8, 16, 32 s; connect() fails about
    /// 131 s after the first SYN`: "about", because the kernel's timers for long waits are
    /// coarse and fire a little late (131 s came out as 134.6 s when measured).
    pub fn describe_en(&self) -> String {
        let resends = match self.waits_ms.len() {
            0 => "no resend".to_string(),
            1 => format!("1 resend, after a wait of {} s", self.waits()),
            n => format!("{n} resends, after waits of {} s", self.waits()),
        };
        format!(
            "{resends}; connect() fails about {} s after the first SYN",
            seconds(self.gives_up_ms)
        )
    }

    /// The same in Chinese.
    pub fn describe_zh(&self) -> String {
        let resends = match self.waits_ms.len() {
            0 => "不重发".to_string(),
            n => format!("重发 {n} 次，每次之前分别等 {} 秒", self.waits()),
        };
        format!(
            "{resends}；第一个 SYN 发出约 {} 秒后 connect() 失败",
            seconds(self.gives_up_ms)
        )
    }

    fn waits(&self) -> String {
        let waits: Vec<String> = self.waits_ms.iter().map(|&ms| seconds(ms)).collect();
        waits.join(", ")
    }
}

/// Milliseconds as seconds: `2`, or `0.5` when not whole.
fn seconds(ms: u64) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(syn_retries: u64, linear_timeouts: u64) -> SynSchedule {
        schedule(SynSettings {
            syn_retries,
            linear_timeouts,
            rto_max_ms: DEFAULT_RTO_MAX_MS,
        })
    }

    fn seconds(values: &[u64]) -> Vec<u64> {
        values.iter().map(|s| s * 1000).collect()
    }

    #[test]
    fn linux_6_5_defaults_resend_10_times_and_give_up_after_131_s() {
        let schedule = of(6, 4);
        assert_eq!(
            schedule.waits_ms,
            seconds(&[1, 1, 1, 1, 1, 2, 4, 8, 16, 32])
        );
        assert_eq!(schedule.gives_up_ms, 131_000);
        assert_eq!(
            schedule.describe_en(),
            "10 resends, after waits of 1, 1, 1, 1, 1, 2, 4, 8, 16, 32 s; connect() fails about 131 s after the first SYN"
        );
    }

    #[test]
    fn without_linear_timeouts_the_waits_double_from_the_start() {
        let schedule = of(6, 0);
        assert_eq!(schedule.waits_ms, seconds(&[1, 2, 4, 8, 16, 32]));
        assert_eq!(schedule.gives_up_ms, 127_000);
    }

    /// Measured on Linux 6.18 in network namespaces (`unshare -rn`), a listener whose accept
    /// queue was full dropping every SYN, TCP_INFO's tcpi_retransmits polled every 10 ms:
    /// - retries 1, linear 2: resends at 1.04 and 2.06 s, ETIMEDOUT at 3.09 s (the time model
    ///   ends it before the third resend the count would allow);
    /// - retries 2, linear 1: resends at 1.01, 2.03, 4.05 s, ETIMEDOUT at 8.08 s;
    /// - retries 3, linear 0: resends at 1.03, 3.06, 7.11 s, ETIMEDOUT at 15.31 s;
    /// - retries 6, linear 4: resends at 1.02, 2.05, 3.07, 4.1, 5.12, 7.14, 11.23, 19.43, 35.55
    ///   and 69.1 s, ETIMEDOUT at 134.63 s (the long waits end late: the kernel's timer wheel
    ///   is coarse for long delays).
    #[test]
    fn small_settings_match_what_the_kernel_did() {
        let cases: [(u64, u64, &[u64], u64); 3] = [
            (1, 2, &[1, 1], 3),
            (2, 1, &[1, 1, 2], 8),
            (3, 0, &[1, 2, 4], 15),
        ];
        for (retries, linear, waits, gives_up) in cases {
            let schedule = of(retries, linear);
            assert_eq!(schedule.waits_ms, seconds(waits), "{retries}, {linear}");
            assert_eq!(schedule.gives_up_ms, gives_up * 1000, "{retries}, {linear}");
        }
    }

    #[test]
    fn waits_are_capped_by_rto_max() {
        let schedule = schedule(SynSettings {
            syn_retries: 8,
            linear_timeouts: 0,
            rto_max_ms: 10_000,
        });
        assert_eq!(schedule.waits_ms, seconds(&[1, 2, 4, 8, 10, 10, 10, 10]));
        // 1 + 2 + 4 + 8 (threshold ilog2(10) = 3) then 10 s for each of the other 5.
        assert_eq!(schedule.gives_up_ms, 15_000 + 5 * 10_000);
        assert_eq!(of(0, 0).waits_ms, Vec::<u64>::new());
        assert_eq!(of(0, 0).gives_up_ms, 1000);
    }
}
