//! The human table, JUnit XML and the summary lines CI reads.

use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::{Outcome, Status};

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Held.
    pub passed: usize,
    /// Did not hold, unexpectedly.
    pub failed: usize,
    /// Not run on this target.
    pub skipped: usize,
    /// Failed as the ledger says.
    pub known: usize,
    /// Listed in the ledger but held.
    pub started_passing: usize,
}

impl Totals {
    /// Counts `outcomes`.
    pub fn of(outcomes: &[Outcome]) -> Self {
        let mut t = Totals::default();
        for o in outcomes {
            match o.status {
                Status::Passed => t.passed += 1,
                Status::Failed(_) => t.failed += 1,
                Status::Skipped(_) => t.skipped += 1,
                Status::KnownDifference { .. } => t.known += 1,
                Status::StartedPassing { .. } => t.started_passing += 1,
            }
        }
        t
    }

    /// Whether the run should exit non-zero: an unexpected failure, or a ledger entry that no
    /// longer describes the mock.
    pub fn is_failure(&self) -> bool {
        self.failed > 0 || self.started_passing > 0
    }

    /// `N passed, M failed, K skipped` — CI's tooling reads exactly this line.
    pub fn summary_line(&self) -> String {
        format!("{} passed, {} failed, {} skipped", self.passed, self.failed, self.skipped)
    }

    /// The ledger's line.
    pub fn known_line(&self) -> String {
        format!(
            "known differences: {} still differ, {} started passing (remove them from conformance/data/known-differences.json)",
            self.known, self.started_passing
        )
    }
}

fn label(status: &Status) -> &'static str {
    match status {
        Status::Passed => "pass",
        Status::Failed(_) => "FAIL",
        Status::Skipped(_) => "skip",
        Status::KnownDifference { .. } => "known",
        Status::StartedPassing { .. } => "FIXED",
    }
}

/// One row per scenario, then the details of every failure and started-passing entry.
pub fn table(outcomes: &[Outcome]) -> String {
    let width = outcomes.iter().map(|o| o.scenario.name.len()).max().unwrap_or(8).max(8);
    let mut out = format!("{:<6} {:<width$} {:>8} {:>5}  note\n", "result", "scenario", "ms", "reqs");
    for o in outcomes {
        let note = match &o.status {
            Status::Skipped(why) => why.clone(),
            Status::KnownDifference { reason, .. } => reason.clone(),
            Status::StartedPassing { .. } => "listed as a known difference but passed".into(),
            Status::Failed(detail) => detail.lines().last().unwrap_or_default().chars().take(100).collect(),
            Status::Passed => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<6} {:<width$} {:>8} {:>5}  {note}",
            label(&o.status),
            o.scenario.name,
            o.elapsed.as_millis(),
            o.requests
        );
    }
    for o in outcomes {
        match &o.status {
            Status::Failed(detail) => {
                let _ = writeln!(out, "\nFAIL {}\n  {}", o.scenario.name, detail.replace('\n', "\n  "));
            }
            Status::StartedPassing { reason } => {
                let _ = writeln!(
                    out,
                    "\nFIXED {}: the ledger says \"{reason}\" but it passed; remove its entry",
                    o.scenario.name
                );
            }
            _ => {}
        }
        for problem in &o.cleanup_problems {
            let _ = writeln!(out, "\ncleanup after {} failed: {problem}", o.scenario.name);
        }
    }
    out
}

/// The known differences in detail (what still differs and why), for `--verbose`.
pub fn known_details(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        if let Status::KnownDifference { reason, detail } = &o.status {
            let _ = writeln!(out, "\nknown {} ({reason})\n  {}", o.scenario.name, detail.replace('\n', "\n  "));
        }
    }
    out
}

/// JUnit XML: one `testsuite` per family; known differences are `skipped` with the reason,
/// started-passing entries are failures.
pub fn junit(outcomes: &[Outcome], elapsed: Duration) -> String {
    let totals = Totals::of(outcomes);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"graphbox-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        outcomes.len(),
        totals.failed + totals.started_passing,
        totals.skipped + totals.known,
        elapsed.as_secs_f64()
    );
    let mut families: Vec<&str> = outcomes.iter().map(|o| o.scenario.family()).collect();
    families.dedup();
    families.sort_unstable();
    families.dedup();
    for family in families {
        let members: Vec<&Outcome> = outcomes.iter().filter(|o| o.scenario.family() == family).collect();
        let t = Totals::of(&members.iter().map(|o| (*o).clone()).collect::<Vec<_>>());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            xml(family),
            members.len(),
            t.failed + t.started_passing,
            t.skipped + t.known
        );
        for o in members {
            let _ = write!(
                out,
                "    <testcase classname=\"conformance.{}\" name=\"{}\" time=\"{:.3}\"",
                xml(family),
                xml(o.scenario.name),
                o.elapsed.as_secs_f64()
            );
            match &o.status {
                Status::Passed => out.push_str("/>\n"),
                Status::Failed(detail) => {
                    let first = detail.lines().last().unwrap_or_default();
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml(first),
                        xml(detail)
                    );
                }
                Status::StartedPassing { reason } => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"listed as a known difference ({}) but passed: remove the ledger entry\"/>\n    </testcase>",
                        xml(reason)
                    );
                }
                Status::Skipped(why) => {
                    let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", xml(why));
                }
                Status::KnownDifference { reason, detail } => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"known difference: {}\"/>\n      <system-out>{}</system-out>\n    </testcase>",
                        xml(reason),
                        xml(detail)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all; drop them.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_control_characters() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn the_summary_line_has_the_exact_shape_ci_reads() {
        let t = Totals { passed: 3, failed: 1, skipped: 2, known: 4, started_passing: 0 };
        assert_eq!(t.summary_line(), "3 passed, 1 failed, 2 skipped");
        assert!(t.is_failure());
    }
}
