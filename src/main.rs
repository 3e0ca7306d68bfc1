//! The `atlas-ca` binary: a thin shell over [`atlas_ca::cli`].

fn main() -> std::process::ExitCode {
    atlas_ca::cli::main()
}
