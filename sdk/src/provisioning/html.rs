//! A provisioning run as one self-contained HTML page (no scripts, no external files): the plan,
//! the changes per user, the refusals and the timings, for a person who wants a page rather than
//! the terminal output. Every value is escaped; nothing here writes markup from data.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Action, Outcome, Plan, Report};

/// The page for a run: `plan` (the dry run), `report` (what applying it did) and `timings`
/// (named phases with how long each took).
pub fn html_report(title: &str, plan: &Plan, report: &Report, timings: &[(&str, Duration)]) -> String {
    let mut out = String::with_capacity(4096 + 256 * plan.entries.len());
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    escape(title, &mut out);
    out.push_str(
        "</title><style>body{font:14px/1.45 system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}\
         th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eef2f7}\
         tr.refused td{background:#ffe3e3}tr.create td{background:#e6f6ea}tr.update td{background:#fff8e1}</style>\
         </head><body><h1>",
    );
    escape(title, &mut out);
    out.push_str("</h1>");
    let c = plan.counts();
    let _ = write!(
        out,
        "<p>Plan: {} to create, {} to update, {} unchanged, {} refused (DirSync {}; {} script evaluations). \
         Applied: {} created, {} updated, {} unchanged, {} refused.</p>",
        c.create,
        c.update,
        c.unchanged,
        c.refused,
        plan.dirsync,
        plan.script_evaluations,
        report.created,
        report.updated,
        report.unchanged,
        report.refused
    );
    if !timings.is_empty() {
        out.push_str("<h2>Timings</h2><table><tr><th>Phase</th><th>Seconds</th></tr>");
        for (phase, took) in timings {
            out.push_str("<tr><td>");
            escape(phase, &mut out);
            let _ = write!(out, "</td><td>{:.3}</td></tr>", took.as_secs_f64());
        }
        out.push_str("</table>");
    }
    out.push_str("<h2>Changes per user</h2><table><tr><th>Row</th><th>User</th><th>Plan</th><th>Changes</th><th>Outcome</th></tr>");
    for entry in &plan.entries {
        let (class, action, changes) = match &entry.action {
            Action::Create { values } => {
                ("create", "create", values.iter().map(|(a, v)| format!("{a} = {v}")).collect::<Vec<_>>())
            }
            Action::Update { changes, .. } => (
                "update",
                "update",
                changes
                    .iter()
                    .map(|ch| {
                        let show =
                            |v: &Option<super::AttrValue>| v.as_ref().map_or("(none)".to_owned(), |v| v.to_string());
                        format!("{}: {} → {}", ch.attribute, show(&ch.from), show(&ch.to))
                    })
                    .collect(),
            ),
            Action::Unchanged { .. } => ("unchanged", "unchanged", Vec::new()),
            Action::Refused { reason } => ("refused", "refused", vec![reason.clone()]),
        };
        let outcome = report.entries.iter().find(|e| e.row == entry.row).map(|e| match &e.outcome {
            Outcome::Created { .. } => "created".to_owned(),
            Outcome::Updated { attributes, .. } => format!("updated ({})", attributes.len()),
            Outcome::Unchanged => "unchanged".to_owned(),
            Outcome::Refused { reason } => format!("refused: {reason}"),
        });
        let refused = outcome.as_deref().is_some_and(|o| o.starts_with("refused"));
        let _ = write!(out, "<tr class=\"{}\"><td>{}</td><td>", if refused { "refused" } else { class }, entry.row);
        escape(&entry.user_principal_name, &mut out);
        out.push_str("</td><td>");
        escape(action, &mut out);
        out.push_str("</td><td>");
        for (i, change) in changes.iter().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            escape(change, &mut out);
        }
        out.push_str("</td><td>");
        escape(outcome.as_deref().unwrap_or("not applied"), &mut out);
        out.push_str("</td></tr>");
    }
    out.push_str("</table>");
    let refusals: Vec<_> = report.refusals().collect();
    out.push_str("<h2>Refusals</h2>");
    if refusals.is_empty() {
        out.push_str("<p>None.</p>");
    } else {
        out.push_str("<ul>");
        for r in refusals {
            out.push_str("<li>");
            escape(&r.user_principal_name, &mut out);
            if let Outcome::Refused { reason } = &r.outcome {
                out.push_str(": ");
                escape(reason, &mut out);
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    out.push_str("</body></html>\n");
    out
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::{DirSyncStatus, Outcome, PlanEntry, ReportEntry};

    #[test]
    fn a_refused_user_named_like_markup_is_shown_as_text() {
        let upn = "<img src=x onerror=alert(1)>@contoso.example";
        let plan = Plan {
            entries: vec![PlanEntry {
                row: 1,
                user_principal_name: upn.to_owned(),
                action: Action::Refused { reason: "no <b>usageLocation</b>".to_owned() },
                notes: Vec::new(),
            }],
            dirsync: DirSyncStatus::Off,
            script_evaluations: 1,
        };
        let report = Report {
            entries: vec![ReportEntry {
                row: 1,
                user_principal_name: upn.to_owned(),
                outcome: Outcome::Refused { reason: "no <b>usageLocation</b>".to_owned() },
                missing_role: None,
            }],
            refused: 1,
            ..Report::default()
        };
        let page = html_report("run <1>", &plan, &report, &[("apply", Duration::from_millis(1500))]);
        assert!(!page.contains("<img") && !page.contains("<b>"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;@contoso.example"));
        assert!(page.contains("<tr class=\"refused\"><td>1</td>"));
        assert!(page.contains("<td>apply</td><td>1.500</td>"));
        assert!(page.contains("<title>run &lt;1&gt;</title>"));
    }
}
