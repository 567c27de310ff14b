pub mod cargo_install;
pub mod image;
pub mod process;
pub mod walk;
