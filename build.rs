//! Compiles the Slint UI with its translations. Debug info is always on: the headless UI tests
//! find elements through it, and it costs nothing measurable at run time.
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-dark".into())
        .with_debug_info(true)
        // Texts of the screens in each operator's language: ui/translations/<lang>/LC_MESSAGES.
        .with_bundled_translations("ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    println!("cargo:rerun-if-changed=ui/translations");
    slint_build::compile_with_config("ui/app.slint", config).expect("the Slint UI must compile");
}
