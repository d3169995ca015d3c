//! The body of a run page: the command and how it ended, the sandbox's
//! layers, and what the monitor saw.

use std::fmt::Write as _;

use super::Page;
use super::escape::one_line;
use crate::events::{ChangeKind, Events};
use crate::run::{Enforcement, Layer, RunReport};

/// Writes the body of a run page.
pub(super) fn body(page: &mut Page, report: &RunReport) {
    page.raw("<main>\n");
    overview(page, report);
    layers(page, &report.layers);
    if let Some(events) = &report.events {
        monitor(page, events);
    } else {
        page.raw(
            "<section id=\"monitor\"><h2>Monitor</h2>\
             <p>The monitor did not run: nothing was recorded.</p>\
             </section>\n",
        );
    }
    page.raw("</main>\n");
}

/// The command, where it ran, and how it ended.
fn overview(page: &mut Page, report: &RunReport) {
    let ended = if report.exit.status == 0 { "ok" } else { "failed" };
    page.raw(&format!(
        "<section id=\"overview\" data-status=\"{}\">\n\
         <h2>Command <span class=\"status s-{ended}\">exit {}</span></h2>\n",
        report.exit.status, report.exit.status
    ));
    page.block("command", &report.command.join(" "));
    page.raw("<dl class=\"facts\">\n");
    page.fact("how it ended", &exit_summary(report));
    page.fact("workspace", &report.workspace);
    if let Some(rootfs) = &report.rootfs {
        page.fact("root file system", rootfs);
    }
    page.fact("network", &report.network.to_string());
    if !report.env_removed.is_empty() {
        page.fact("environment removed", &report.env_removed.join(", "));
    }
    page.raw("</dl>\n");
    for warning in &report.warnings {
        page.raw("<p class=\"warning\">warning: ");
        page.text(warning);
        page.raw("</p>\n");
    }
    page.raw("</section>\n");
}

/// "exited with 0 after 812 ms" and the like.
fn exit_summary(report: &RunReport) -> String {
    let ms = report.duration_ms;
    if report.timed_out {
        return format!("timed out and was killed after {ms} ms");
    }
    if let Some(error) = &report.exit.error {
        return format!("could not run the command: {error}");
    }
    match (report.exit.code, report.exit.signal) {
        (_, Some(signal)) => {
            format!("killed by signal {signal} after {ms} ms")
        }
        (Some(code), _) => format!("exited with {code} after {ms} ms"),
        _ => format!("ended with status {}", report.exit.status),
    }
}

/// One row per layer: its name, how far it was enforced, and what it
/// did.
fn layers(page: &mut Page, layers: &[Layer]) {
    let full =
        layers.iter().filter(|l| l.enforcement == Enforcement::Full).count();
    page.raw(&format!(
        "<section id=\"layers\">\n<h2>Sandbox layers \
         <span class=\"count\">{full} of {} full</span></h2>\n",
        layers.len()
    ));
    if layers.is_empty() {
        page.raw("<p class=\"warning\">No layer was put in place.</p>\n");
    } else {
        page.raw(
            "<table class=\"layers\">\n<thead><tr><th>layer</th>\
             <th>state</th><th>details</th></tr></thead>\n<tbody>\n",
        );
        for layer in layers {
            layer_row(page, layer);
        }
        page.raw("</tbody></table>\n");
    }
    page.raw("</section>\n");
}

fn layer_row(page: &mut Page, layer: &Layer) {
    let (state, why) = match &layer.enforcement {
        Enforcement::Full => ("full", String::new()),
        Enforcement::Partial { missing } => {
            ("partial", format!("missing: {}", missing.join(", ")))
        }
        Enforcement::None { reason } => ("none", reason.clone()),
        Enforcement::Unused { reason } => ("unused", reason.clone()),
    };
    page.raw(&format!(
        "<tr class=\"layer l-{state}\"><td>{}</td>\
         <td><span class=\"state\">{state}</span></td><td>",
        layer.layer.name()
    ));
    if !why.is_empty() {
        page.tagged("strong", "why", &why);
        page.raw(" ");
    }
    page.text(&layer.details.join("; "));
    page.raw("</td></tr>\n");
}

/// What the monitor saw: counts, the timeline, file accesses and
/// workspace changes.
fn monitor(page: &mut Page, events: &Events) {
    page.raw("<section id=\"monitor\">\n<h2>Monitor</h2>\n");
    if let Some(failure) = &events.failure {
        page.raw(
            "<p class=\"error\">The monitor failed and the sandbox \
                  was killed: ",
        );
        page.text(failure);
        page.raw("</p>\n");
    }
    let counts = &events.counts;
    page.raw(&format!(
        "<p class=\"counts\">{} file calls ({} outside the workspace and \
         the system tree, {} refused writes), {} programs executed, {} \
         network calls, {} DNS queries, {} captured connections; {} \
         events left out of the lists.</p>\n",
        counts.files,
        counts.sensitive_files,
        counts.denied_writes,
        counts.execs,
        counts.network,
        counts.dns,
        counts.captures,
        events.dropped
    ));
    timeline(page, events);
    files(page, events);
    changes(page, events);
    page.raw("</section>\n");
}

/// Processes, network attempts, DNS lookups and captured connections
/// in the order they happened.
fn timeline(page: &mut Page, events: &Events) {
    let mut entries = timeline_entries(events);
    entries.sort_by_key(|entry| entry.0);
    page.raw("<h3>Timeline</h3>\n");
    if entries.is_empty() {
        page.raw("<p>No process, network attempt or lookup.</p>\n");
        return;
    }
    page.raw("<ol class=\"timeline\">\n");
    for (time_ms, markup) in entries {
        page.raw(&format!("<li><time>+{time_ms} ms</time> "));
        page.raw(&markup);
        page.raw("</li>\n");
    }
    page.raw("</ol>\n");
}

/// Each timed event as its time and escaped markup.
fn timeline_entries(events: &Events) -> Vec<(u64, String)> {
    let mut entries = Vec::new();
    for p in &events.processes {
        let ended = match (p.exit_code, p.signal) {
            (_, Some(signal)) => format!(", killed by signal {signal}"),
            (Some(code), None) => format!(", exit {code}"),
            (None, None) => String::new(),
        };
        entries.push((
            p.time_ms,
            format!(
                "<span class=\"kind k-exec\" id=\"proc-{}\">exec</span> \
                 [{}&larr;{}] <code>{}</code> <span class=\"path\">{}</span>\
                 {ended}",
                p.pid,
                p.pid,
                p.ppid,
                one_line(&p.argv.join(" ")),
                one_line(&p.path),
            ),
        ));
    }
    for n in &events.network {
        let e = &n.event;
        let port = e.port.map(|p| format!(":{p}")).unwrap_or_default();
        entries.push((
            e.actor.time_ms,
            format!(
                "<span class=\"kind k-net\">network</span> {} {} \
                 <code>{}{port}</code> <span class=\"outcome o-{}\">{}\
                 </span> &times;{} by {} [<a href=\"#proc-{}\">{}</a>]",
                one_line(&e.syscall),
                one_line(e.socket.as_deref().unwrap_or(&e.family)),
                one_line(&e.address),
                e.outcome.name(),
                e.outcome.name(),
                n.count,
                one_line(&e.actor.process),
                e.actor.pid,
                e.actor.pid,
            ),
        ));
    }
    lookups(events, &mut entries);
    entries
}

/// DNS lookups and what sinkholed connections carried.
fn lookups(events: &Events, entries: &mut Vec<(u64, String)>) {
    for q in &events.dns {
        entries.push((
            q.time_ms,
            format!(
                "<span class=\"kind k-dns\">dns</span> <code>{}</code> {} \
                 &rarr; {} &times;{}",
                one_line(&q.name),
                one_line(&q.qtype),
                one_line(&q.answer),
                q.count
            ),
        ));
    }
    for c in &events.captures {
        let mut what = one_line(&c.protocol);
        if let Some(method) = &c.method {
            let path = c.path.as_deref().unwrap_or("");
            let _ = write!(what, " {} {}", one_line(method), one_line(path));
        }
        entries.push((
            c.time_ms,
            format!(
                "<span class=\"kind k-net\">sent</span> to \
                 <code>{}:{}</code> ({what}, {} bytes) \
                 <pre class=\"prefix\">{}</pre>",
                one_line(c.target()),
                c.port,
                c.bytes,
                one_line(&c.prefix),
            ),
        ));
    }
}

/// File accesses outside the workspace and the system tree, worst
/// first.
fn files(page: &mut Page, events: &Events) {
    page.raw("<h3>File accesses outside the workspace</h3>\n");
    if events.files.is_empty() {
        page.raw("<p>None.</p>\n");
        return;
    }
    page.raw(
        "<table class=\"files\">\n<thead><tr><th>access</th><th>path</th>\
         <th>zone</th><th>outcome</th><th>count</th><th>process</th></tr>\
         </thead>\n<tbody>\n",
    );
    for f in &events.files {
        page.raw(&format!(
            "<tr class=\"zone-{}\"><td>{}</td><td><code>{}</code></td>\
             <td>{}</td><td><span class=\"outcome o-{}\">{}</span></td>\
             <td class=\"num\">{}</td><td>{} [<a href=\"#proc-{}\">{}</a>]\
             </td></tr>\n",
            f.zone.name().replace(' ', "-"),
            f.access.name(),
            one_line(&f.path),
            f.zone.name(),
            f.outcome.name(),
            f.outcome.name(),
            f.count,
            one_line(&f.process),
            f.pid,
            f.pid,
        ));
    }
    page.raw("</tbody></table>\n");
}

/// What changed in the workspace.
fn changes(page: &mut Page, events: &Events) {
    let ws = &events.workspace;
    page.raw(&format!(
        "<h3>Workspace changes</h3>\n<p>{} created, {} modified, {} \
         deleted.</p>\n",
        ws.created, ws.modified, ws.deleted
    ));
    if let Some(why) = &ws.incomplete {
        page.raw("<p class=\"warning\">The walk stopped short: ");
        page.text(why);
        page.raw("</p>\n");
    }
    if ws.changes.is_empty() {
        return;
    }
    page.raw("<ul class=\"changes\">\n");
    for change in &ws.changes {
        let what = match change.change {
            ChangeKind::Created => "created",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        };
        page.raw(&format!(
            "<li class=\"c-{what}\">{what} <code>{}</code> ({}, {} bytes)\
             </li>\n",
            one_line(&change.path),
            one_line(&change.kind),
            change.size
        ));
    }
    page.raw("</ul>\n");
}
