//! Adapter of the scanner check screen: what the scanner really sent and how it reads.

use laituri_domain::scan::{self, ScanKind};
use slint::ComponentHandle;

use super::{AppWindow, Ctx, ElementRow, ScannerCheckAdapter, Shared};
use crate::terminal::messages;
use crate::{i18n, tr};

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let check = ui.global::<ScannerCheckAdapter>();
    // The preview's sample scan must never look like something the scanner sent.
    check.set_raw(Default::default());
    check.set_bytes(Default::default());
    check.set_symbology(Default::default());
    check.set_kind(Default::default());
    check.set_elements(super::model(Vec::new()));
    check.set_errors(Default::default());
    super::on_back(ui, ctx, |f| check.on_back(f));
}

/// Control characters made visible: GS as `<GS>`, others as `<0xNN>`.
pub fn visible(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '\u{1d}' => "<GS>".to_string(),
            '\r' => "<CR>".to_string(),
            '\n' => "<LF>".to_string(),
            '\t' => "<TAB>".to_string(),
            c if c.is_control() => format!("<0x{:02X}>", c as u32),
            c => c.to_string(),
        })
        .collect()
}

pub fn show(ui: &AppWindow, ctx: &Ctx, raw: &str) {
    let (opts, lang) = {
        let t = ctx.terminal.borrow();
        (t.scan_options(), t.lang())
    };
    let s = scan::interpret(raw, &opts);
    let check = ui.global::<ScannerCheckAdapter>();
    check.set_raw(visible(raw).into());
    check.set_bytes(
        raw.bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
            .into(),
    );
    let symbology = match &s.symbology {
        Some(sym) if sym.is_gs1() => format!("{} (GS1)", sym.id()),
        Some(sym) => sym.id().to_string(),
        None => tr!(lang, "none sent"),
    };
    check.set_symbology(symbology.into());
    let kind = match s.kind {
        ScanKind::Empty => tr!(lang, "empty"),
        ScanKind::Gtin => "GTIN".to_string(),
        ScanKind::Gs1 => "GS1".to_string(),
        ScanKind::Plain => tr!(lang, "plain text"),
    };
    check.set_kind(
        if s.heuristic {
            tr!(lang, "{kind} (guessed)", kind)
        } else {
            kind
        }
        .into(),
    );
    let check_digit = |ok: bool| {
        if ok {
            tr!(lang, "check digit ok")
        } else {
            tr!(lang, "CHECK DIGIT WRONG")
        }
    };
    check.set_valid(s.valid);
    let mut rows: Vec<ElementRow> = s
        .elements
        .iter()
        .map(|e| {
            let mut detail = Vec::new();
            if let Some(d) = e.date {
                detail.push(i18n::date(lang, d));
            }
            if let Some(dec) = &e.decimal {
                detail.push(i18n::decimal(lang, &dec.to_string()));
            }
            if let Some(ok) = e.check_digit_ok {
                detail.push(check_digit(ok));
            }
            ElementRow {
                ai: e.ai.to_string().into(),
                title: e.title.into(),
                value: e.value.clone().into(),
                detail: detail.join(" · ").into(),
            }
        })
        .collect();
    if let Some(g) = &s.gtin
        && s.elements.is_empty()
    {
        rows.push(ElementRow {
            ai: "GTIN".into(),
            title: format!("{:?}", g.format).into(),
            value: g.gtin14.clone().into(),
            detail: check_digit(g.check_digit_ok).into(),
        });
    }
    if let Some(text) = s.text() {
        rows.push(ElementRow {
            ai: tr!(lang, "text").into(),
            title: tr!(lang, "Plain text (location, tote, badge …)").into(),
            value: text.into(),
            detail: Default::default(),
        });
    }
    check.set_elements(super::model(rows));
    let mut problems: Vec<String> = s
        .errors
        .iter()
        .map(|p| messages::scan_problem(lang, p))
        .collect();
    problems.extend(s.warnings.iter().map(|n| {
        let note = messages::scan_note(lang, n);
        tr!(lang, "note: {note}", note)
    }));
    check.set_errors(problems.join("\n").into());
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(super::visible("]C1\u{1d}10A\r\n"), "]C1<GS>10A<CR><LF>");
        assert_eq!(super::visible("\u{4}"), "<0x04>");
    }
}
