//! Compiles the Slint UI. Debug info is always on: the headless UI tests find elements through it,
//! and it costs nothing measurable at run time.
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-dark".into())
        .with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("the Slint UI must compile");
}
