//! The binary's `--env-file` and `--print-env` (not part of the library): the
//! ready line's facts under the names Microsoft's SDKs read, so code under test
//! is pointed at the mock by its environment alone.
//!
//! What azure-identity (Python, 1.27) reads: `EnvironmentCredential` takes
//! `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` first, then a
//! certificate path, then `AZURE_CLIENT_ID` + `AZURE_USERNAME` +
//! `AZURE_PASSWORD`; every MSAL-based credential takes its authority from
//! `AZURE_AUTHORITY_HOST`, which must be `https`. No variable turns off MSAL's
//! instance discovery, which asks login.microsoftonline.com about any host it
//! does not know, so `disable_instance_discovery=True` stays in code (README).
//! `requests` reads `REQUESTS_CA_BUNDLE`, OpenSSL and httpx `SSL_CERT_FILE`,
//! Node `NODE_EXTRA_CA_CERTS`; a Graph SDK takes its base URL only in code,
//! hence `GRAPHBOX_GRAPH_URL`.

use std::io::Write;
use std::path::Path;

use graphbox_mock::ReadyInfo;

/// The variables, in the order they are written.
pub(crate) fn variables(ready: &ReadyInfo, admin_key: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AZURE_TENANT_ID", ready.tenant_id.to_string()),
        ("AZURE_CLIENT_ID", ready.client_id.to_string()),
        ("AZURE_CLIENT_SECRET", ready.client_secret.clone()),
        ("AZURE_AUTHORITY_HOST", ready.authority.clone()),
        ("AZURE_USERNAME", ready.admin_username.clone()),
        ("AZURE_PASSWORD", ready.admin_password.clone()),
    ];
    // Under --plain-http there is no CA to trust; setting these to nothing
    // would make clients trust nothing at all.
    if let Some(ca) = &ready.ca_file {
        // Absolute: the variables are read by processes in other directories.
        let ca = std::path::absolute(ca).unwrap_or_else(|_| ca.clone()).display().to_string();
        vars.push(("REQUESTS_CA_BUNDLE", ca.clone()));
        vars.push(("SSL_CERT_FILE", ca.clone()));
        vars.push(("NODE_EXTRA_CA_CERTS", ca));
    }
    vars.push(("GRAPHBOX_GRAPH_URL", ready.graph_url.clone()));
    vars.push(("GRAPHBOX_CONTROL_URL", ready.control_url.clone()));
    vars.push(("GRAPHBOX_TENANT_DOMAIN", ready.tenant_domain.clone()));
    if let Some(key) = admin_key {
        vars.push(("GRAPHBOX_ADMIN_KEY", key.to_owned()));
    }
    vars
}

/// `KEY='value'` lines. Single quotes mean the same to a POSIX shell
/// (`set -a; . FILE`), python-dotenv, Node's dotenv and docker compose: the
/// value taken literally. A value that single quotes cannot carry in all of
/// them (a `'`, a line break) is refused rather than written so that one
/// reader sees something else.
pub(crate) fn dotenv(vars: &[(&str, String)]) -> Result<String, String> {
    let mut out = String::new();
    for (key, value) in vars {
        if let Some(bad) = value.chars().find(|c| *c == '\'' || c.is_control()) {
            return Err(format!(
                "cannot write {key} to an env file: its value contains {bad:?}, which dotenv readers \
                 and shells would read differently (for paths, choose a --data-dir without it)"
            ));
        }
        out.push_str(&format!("{key}='{value}'\n"));
    }
    Ok(out)
}

/// `export KEY='value'` lines for a POSIX shell; any value is safe (a `'`
/// closes the quote, is escaped, and reopens it).
pub(crate) fn shell_exports(vars: &[(&str, String)]) -> String {
    vars.iter().map(|(key, value)| format!("export {key}='{}'\n", value.replace('\'', r"'\''"))).collect()
}

/// Writes the dotenv text whole: to a temporary file beside `path`, owner-only
/// (it holds a client secret and a password), then renamed over it, so a
/// script polling for the file never reads half of it.
pub(crate) fn write_dotenv(path: &Path, vars: &[(&str, String)]) -> Result<(), String> {
    let text = dotenv(vars)?;
    let name = path.file_name().ok_or_else(|| format!("--env-file {} names no file", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let failed = |e: std::io::Error| format!("cannot write --env-file {}: {e}", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(failed(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_exports_escape_a_single_quote_so_the_shell_reads_the_value_back() {
        let text = shell_exports(&[("A", "it's $HOME `x` \"y\"".to_owned())]);
        assert_eq!(text, "export A='it'\\''s $HOME `x` \"y\"'\n");
    }

    #[test]
    fn dotenv_refuses_a_value_no_single_quoting_carries_everywhere() {
        assert!(dotenv(&[("A", "a'b".to_owned())]).unwrap_err().contains("A"));
        assert!(dotenv(&[("A", "a\nb".to_owned())]).is_err());
        assert_eq!(dotenv(&[("A", "$x \"y\" #z".to_owned())]).unwrap(), "A='$x \"y\" #z'\n");
    }
}
