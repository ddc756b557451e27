//! The settings a lock's client connects with, and the lock's own policy.
//!
//! A [`ClientSpec`] comes from the JS layer: either the settings the
//! application's Node driver resolved for its mongoose connection (hosts,
//! credentials, TLS, timeouts, proxy, …: a structured description, because
//! passwords, mechanism properties and in-memory PEMs do not survive being
//! encoded into a connection string), or a connection string (`uri` option,
//! `MONGODB_URI`). [`build`] turns it into the Rust driver's `ClientOptions`.
//!
//! What the lock owns whatever the application says: reads go to the primary
//! (ownership must never be judged on stale data), writes are acknowledged
//! (never `w: 0`), the pool is small and server monitoring polls (no extra
//! round-trip-time connection per server). A setting the Rust driver cannot
//! reproduce is refused by name ([`LockError::UnsupportedOption`]); nothing
//! that matters to security is ever dropped silently.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mongodb::bson::Document;
use mongodb::options::{
    Acknowledgment, AuthMechanism, ClientOptions, Compressor, Credential, DriverInfo,
    ServerAddress, ServerApi, ServerApiVersion, ServerMonitoringMode, Socks5Proxy, Tls, TlsOptions,
    WriteConcern,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{LockError, Result};

/// Bound on one lock operation when no `socketTimeoutMS` is set: the Rust
/// driver has no socket timeout, and a server that accepts a connection but
/// never answers must not hang a caller forever.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Most connections the lock's pool opens to one server, whatever the
/// application's `maxPoolSize` (the lowest of the two wins). Connections are
/// opened on demand: one suffices for sequential lock calls.
pub const LOCK_MAX_POOL_SIZE: u32 = 8;
/// Name the lock adds to the driver's handshake metadata.
pub const DRIVER_NAME: &str = "mongoose-distributed-lock";

/// Connection-string options the Node driver (so mongoose) takes and the Rust
/// driver refuses, which the lock applies itself: both bound each operation.
const APPLIED_BY_THE_LOCK: &[&str] = &["socketTimeoutMS", "timeoutMS"];
/// A connection-string option Node takes and the Rust parser does not (it
/// sets the same TLS setting only through `tlsInsecure`).
const ALLOW_INVALID_HOSTNAMES: &str = "tlsAllowInvalidHostnames";

/// How to connect, as the JS layer describes it. Field names are the JS
/// (camelCase) ones; unknown fields are refused, so that no setting the JS
/// layer sends can be lost on the way.
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSpec {
    /// A connection string, parsed by the Rust driver (the `uri` option).
    pub uri: Option<String>,
    /// `host:port`, `[::1]:port`, or a Unix socket path.
    pub hosts: Option<Vec<String>>,
    pub srv_host: Option<String>,
    pub srv_service_name: Option<String>,
    pub srv_max_hosts: Option<f64>,
    pub replica_set: Option<String>,
    pub direct_connection: Option<bool>,
    pub load_balanced: Option<bool>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth_source: Option<String>,
    pub auth_mechanism: Option<String>,
    pub auth_mechanism_properties: Option<BTreeMap<String, String>>,
    pub tls: Option<bool>,
    pub tls_ca_file: Option<String>,
    pub tls_ca_pem: Option<String>,
    pub tls_cert_key_file: Option<String>,
    /// Certificate chain and unencrypted private key, one PEM text.
    pub tls_cert_key_pem: Option<String>,
    pub tls_allow_invalid_certificates: Option<bool>,
    /// The CAs Node trusts by default (its bundled ones, `NODE_EXTRA_CA_CERTS`,
    /// or the system's), trusted when TLS is on and no CA is named: without
    /// it OpenSSL would read whatever store the system has (none on Windows).
    pub tls_default_ca_pem: Option<String>,
    /// Node's `tlsAllowInvalidHostnames` (a `checkServerIdentity` that checks
    /// nothing): the chain is still verified, the name is not.
    pub tls_allow_invalid_hostnames: Option<bool>,
    pub app_name: Option<String>,
    pub compressors: Option<Vec<String>>,
    pub zlib_compression_level: Option<f64>,
    pub server_selection_timeout_ms: Option<f64>,
    pub connect_timeout_ms: Option<f64>,
    pub socket_timeout_ms: Option<f64>,
    pub heartbeat_frequency_ms: Option<f64>,
    pub max_pool_size: Option<f64>,
    pub max_idle_time_ms: Option<f64>,
    pub retry_writes: Option<bool>,
    pub retry_reads: Option<bool>,
    pub proxy_host: Option<String>,
    pub proxy_port: Option<f64>,
    pub proxy_username: Option<String>,
    pub proxy_password: Option<String>,
    pub server_api_version: Option<String>,
    pub server_api_strict: Option<bool>,
    pub server_api_deprecation_errors: Option<bool>,
    /// `majority`, a tag, or a number written in decimal.
    pub write_concern_w: Option<String>,
    pub write_concern_journal: Option<bool>,
    pub write_concern_timeout_ms: Option<f64>,
}

impl std::fmt::Debug for ClientSpec {
    // Never print credentials, PEMs or a connection string (it may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSpec")
            .field("hosts", &self.hosts)
            .field("srv_host", &self.srv_host)
            .field("replica_set", &self.replica_set)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl ClientSpec {
    /// Reads the JSON the JS layer sends. The error names where the JSON is
    /// wrong, never a value (values may be secrets).
    pub fn from_json(json: &str) -> Result<ClientSpec> {
        serde_json::from_str(json).map_err(|e| spec_error(&e))
    }

    /// The spec of a connection string.
    pub fn from_uri(uri: impl Into<String>) -> ClientSpec {
        ClientSpec {
            uri: Some(uri.into()),
            ..Default::default()
        }
    }

    /// Identity of the client these settings make: a SHA-256 digest, so that
    /// no password or key ever sits in a cache key.
    pub fn key(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(canonical))
    }

    /// The secrets in these settings, to be blanked out of any driver message.
    fn secrets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = [
            self.password.as_deref(),
            self.proxy_password.as_deref(),
            self.uri.as_deref().and_then(password_in_uri),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(props) = &self.auth_mechanism_properties {
            out.extend(props.values().map(String::as_str));
        }
        out.retain(|s| s.len() >= 3);
        out
    }

    /// A driver message with every secret of these settings blanked out.
    pub fn redact(&self, message: &str) -> String {
        self.secrets()
            .into_iter()
            .fold(message.to_string(), |m, secret| m.replace(secret, "****"))
    }
}

/// A JSON error as a lock error, without the values it may quote.
pub fn spec_error(e: &serde_json::Error) -> LockError {
    let text = e.to_string();
    // serde quotes unknown field names (not secrets): keep that one case.
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("?");
        return LockError::UnsupportedOption {
            option: field.to_string(),
        };
    }
    LockError::InvalidUri {
        message: format!(
            "the connection settings from the JS layer are malformed (line {}, column {})",
            e.line(),
            e.column()
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The driver's options for `spec`, and what must live until the client is built.
pub struct Built {
    pub options: ClientOptions,
    /// Longest time one lock operation may take (`socketTimeoutMS`, `timeoutMS`).
    pub operation_timeout: Duration,
    /// PEMs given in memory, written to private temporary files that the
    /// driver reads while the client is built; removed when this is dropped.
    pub pem_files: Option<PemFiles>,
}

impl std::fmt::Debug for Built {
    // The options hold credentials: show only what is ours.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("operation_timeout", &self.operation_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds the driver's options for `spec`, under the lock's own policy.
pub async fn build(spec: &ClientSpec) -> Result<Built> {
    let redacted = |e: LockError| match e {
        LockError::InvalidUri { message } => LockError::InvalidUri {
            message: spec.redact(&message),
        },
        LockError::TlsConfig { message } => LockError::TlsConfig {
            message: spec.redact(&message),
        },
        other => other,
    };
    let mut built = if let Some(uri) = &spec.uri {
        from_uri(uri).await.map_err(redacted)?
    } else {
        from_fields(spec).await.map_err(redacted)?
    };
    if let Some(pem) = &spec.tls_default_ca_pem {
        default_cas(&mut built, pem).map_err(redacted)?;
    }
    refuse_locked_key(&built.options)?;
    apply_lock_policy(&mut built.options);
    Ok(built)
}

/// An encrypted client key with no password (`tlsCertificateKeyFile` in the
/// lock's own `uri` without `tlsCertificateKeyFilePassword`) is refused here:
/// OpenSSL would ask for the password on the terminal and wait there for
/// good. (Keys from the application's connection are decrypted in JS.)
fn refuse_locked_key(options: &ClientOptions) -> Result<()> {
    let Some(Tls::Enabled(tls)) = &options.tls else {
        return Ok(());
    };
    let (Some(path), None) = (
        &tls.cert_key_file_path,
        &tls.tls_certificate_key_file_password,
    ) else {
        return Ok(());
    };
    // An unreadable file is the driver's to report, as it always was.
    let Ok(pem) = std::fs::read(path) else {
        return Ok(());
    };
    let encrypted = |marker: &[u8]| pem.windows(marker.len()).any(|w| w == marker);
    if encrypted(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || encrypted(b"Proc-Type: 4,ENCRYPTED") {
        return Err(LockError::TlsConfig {
            message: "the client key in tlsCertificateKeyFile is encrypted, and no \
                      tlsCertificateKeyFilePassword is given"
                .into(),
        });
    }
    Ok(())
}

/// With TLS on, certificates checked and no CA named, trust `pem` (Node's
/// default CAs), as the application does.
fn default_cas(built: &mut Built, pem: &str) -> Result<()> {
    let Some(Tls::Enabled(tls)) = &mut built.options.tls else {
        return Ok(());
    };
    if tls.ca_file_path.is_some() || tls.allow_invalid_certificates == Some(true) {
        return Ok(());
    }
    let files = built.pem_files.get_or_insert_with(PemFiles::default);
    tls.ca_file_path = Some(files.write("default-ca.pem", pem)?);
    Ok(())
}

/// A connection string, parsed by the Rust driver. Options it refuses are
/// refused by name; the timeouts the lock applies itself are taken out first.
async fn from_uri(uri: &str) -> Result<Built> {
    let mut stripped = uri.to_string();
    let mut bound = None;
    for option in APPLIED_BY_THE_LOCK {
        if let Some(value) = option_value(uri, option) {
            let ms = value.parse::<u64>().map_err(|_| LockError::InvalidUri {
                message: format!("{option} must be a whole number of ms"),
            })?;
            if ms > 0 {
                bound = Some(bound.map_or(ms, |b: u64| b.min(ms)));
            }
        }
        stripped = without_option(&stripped, option);
    }
    // Node takes tlsAllowInvalidHostnames in a string; the Rust parser only
    // through tlsInsecure: it is applied here, after parsing.
    let allow_invalid_hostnames = match option_value(uri, ALLOW_INVALID_HOSTNAMES) {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => {
            return Err(LockError::InvalidUri {
                message: format!("{ALLOW_INVALID_HOSTNAMES} must be true or false"),
            })
        }
    };
    if allow_invalid_hostnames.is_some() {
        if option_value(uri, "tlsInsecure").is_some() {
            return Err(LockError::InvalidUri {
                message: format!("tlsInsecure cannot be used with {ALLOW_INVALID_HOSTNAMES}"),
            });
        }
        stripped = without_option(&stripped, ALLOW_INVALID_HOSTNAMES);
    }
    let mut options = ClientOptions::parse(&stripped).await.map_err(|e| {
        match parse_error(&e.kind.to_string()) {
            // The driver lowercases the name: give it back as the string has it.
            LockError::UnsupportedOption { option } => LockError::UnsupportedOption {
                option: option_key(uri, &option).unwrap_or(option),
            },
            other => other,
        }
    })?;
    if let Some(allow) = allow_invalid_hostnames {
        // As tlsAllowInvalidCertificates does in the Rust parser: TLS on.
        match options
            .tls
            .get_or_insert_with(|| Tls::Enabled(TlsOptions::default()))
        {
            Tls::Enabled(tls) => tls.allow_invalid_hostnames = Some(allow),
            Tls::Disabled => {
                return Err(LockError::UnsupportedOption {
                    option: format!("tls=false with {ALLOW_INVALID_HOSTNAMES}"),
                })
            }
        }
    }
    Ok(Built {
        options,
        operation_timeout: bound.map_or(DEFAULT_OPERATION_TIMEOUT, Duration::from_millis),
        pem_files: None,
    })
}

/// What the Rust driver's parser says, as a lock error.
fn parse_error(message: &str) -> LockError {
    // "GSSAPI auth is only supported with the gssapi-auth feature flag", …
    if let Some(before) = message
        .split(" auth is only supported with the")
        .next()
        .filter(|b| b.len() < message.len())
    {
        let mechanism = before.split_whitespace().last().unwrap_or("?");
        return LockError::UnsupportedOption {
            option: format!("authMechanism={mechanism}"),
        };
    }
    match refused_option(message) {
        Some(option) => LockError::UnsupportedOption { option },
        None => LockError::InvalidUri {
            message: message.to_string(),
        },
    }
}

/// Settings described field by field (the application's resolved ones).
async fn from_fields(spec: &ClientSpec) -> Result<Built> {
    let mut options = match &spec.srv_host {
        Some(host) => srv_seed(spec, host).await?,
        None => {
            let hosts = spec.hosts.as_deref().unwrap_or_default();
            if hosts.is_empty() {
                return Err(LockError::InvalidUri {
                    message: "the connection names no host".to_string(),
                });
            }
            let mut options = ClientOptions::default();
            options.hosts = hosts
                .iter()
                .map(|h| server_address(h))
                .collect::<Result<_>>()?;
            options
        }
    };
    if let Some(name) = &spec.replica_set {
        options.repl_set_name = Some(name.clone());
    }
    options.direct_connection = spec.direct_connection.or(options.direct_connection);
    options.load_balanced = spec.load_balanced.or(options.load_balanced);
    if let Some(credential) = credential(spec)? {
        options.credential = Some(credential);
    }
    let pem_files = tls(spec, &mut options)?;
    options.app_name = spec.app_name.clone().or(options.app_name);
    if let Some(names) = &spec.compressors {
        options.compressors = Some(compressors(names, spec.zlib_compression_level)?);
    }
    options.server_selection_timeout =
        millis(spec.server_selection_timeout_ms, "serverSelectionTimeoutMS")?;
    options.connect_timeout = millis(spec.connect_timeout_ms, "connectTimeoutMS")?;
    options.heartbeat_freq = millis(spec.heartbeat_frequency_ms, "heartbeatFrequencyMS")?;
    options.max_idle_time = millis(spec.max_idle_time_ms, "maxIdleTimeMS")?;
    if let Some(n) = whole(spec.max_pool_size, "maxPoolSize")? {
        options.max_pool_size = Some(u32::try_from(n).unwrap_or(u32::MAX));
    }
    options.retry_writes = spec.retry_writes;
    options.retry_reads = spec.retry_reads;
    if let Some(host) = &spec.proxy_host {
        let port = whole(spec.proxy_port, "proxyPort")?
            .map(|p| u16::try_from(p).map_err(|_| invalid_value("proxyPort")))
            .transpose()?;
        let mut proxy = Socks5Proxy::builder().host(host.clone()).port(port).build();
        if let Some(user) = &spec.proxy_username {
            proxy.authentication = Some((
                user.clone(),
                spec.proxy_password.clone().unwrap_or_default(),
            ));
        }
        options.socks5_proxy = Some(proxy);
    }
    if let Some(version) = &spec.server_api_version {
        if version != "1" {
            return Err(LockError::UnsupportedOption {
                option: format!("serverApi.version={version}"),
            });
        }
        let mut api = ServerApi::builder().version(ServerApiVersion::V1).build();
        api.strict = spec.server_api_strict;
        api.deprecation_errors = spec.server_api_deprecation_errors;
        options.server_api = Some(api);
    }
    options.write_concern = write_concern(spec)?;
    let operation_timeout =
        millis(spec.socket_timeout_ms, "socketTimeoutMS")?.unwrap_or(DEFAULT_OPERATION_TIMEOUT);
    Ok(Built {
        options,
        operation_timeout,
        pem_files,
    })
}

/// A `mongodb+srv://` seed: the Rust driver resolves SRV and TXT records and
/// keeps polling them itself. Everything else is set field by field after.
async fn srv_seed(spec: &ClientSpec, host: &str) -> Result<ClientOptions> {
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(invalid_value("srvHost"));
    }
    let mut seed = format!("mongodb+srv://{host}/?");
    if let Some(service) = &spec.srv_service_name {
        if !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid_value("srvServiceName"));
        }
        seed.push_str(&format!("srvServiceName={service}&"));
    }
    if let Some(max) = whole(spec.srv_max_hosts, "srvMaxHosts")? {
        seed.push_str(&format!("srvMaxHosts={max}&"));
    }
    ClientOptions::parse(seed.trim_end_matches(['?', '&']))
        .await
        .map_err(|e| LockError::driver("SRV lookup", e))
}

fn server_address(host: &str) -> Result<ServerAddress> {
    #[cfg(unix)]
    if host.starts_with('/') {
        return Ok(ServerAddress::Unix {
            path: PathBuf::from(host),
        });
    }
    ServerAddress::parse(host).map_err(|_| invalid_value("hosts"))
}

fn credential(spec: &ClientSpec) -> Result<Option<Credential>> {
    if spec.username.is_none() && spec.auth_mechanism.is_none() {
        return Ok(None);
    }
    let mechanism = spec
        .auth_mechanism
        .as_deref()
        .map(|m| {
            m.parse::<AuthMechanism>()
                .map_err(|_| LockError::UnsupportedOption {
                    option: format!("authMechanism={m}"),
                })
        })
        .transpose()?;
    let mut credential = Credential::default();
    credential.username = spec.username.clone();
    credential.password = spec.password.clone();
    credential.source = spec.auth_source.clone();
    credential.mechanism = mechanism;
    if let Some(props) = &spec.auth_mechanism_properties {
        let mut doc = Document::new();
        for (k, v) in props {
            doc.insert(k.clone(), v.clone());
        }
        credential.mechanism_properties = Some(doc);
    }
    Ok(Some(credential))
}

fn tls(spec: &ClientSpec, options: &mut ClientOptions) -> Result<Option<PemFiles>> {
    let wants_material = spec.tls_ca_file.is_some()
        || spec.tls_ca_pem.is_some()
        || spec.tls_cert_key_file.is_some()
        || spec.tls_cert_key_pem.is_some()
        || spec.tls_allow_invalid_certificates == Some(true)
        || spec.tls_allow_invalid_hostnames == Some(true);
    match spec.tls {
        Some(false) if wants_material => Err(LockError::UnsupportedOption {
            option: "tls=false with TLS certificates or tlsAllowInvalid*".to_string(),
        }),
        Some(false) => {
            options.tls = Some(Tls::Disabled);
            Ok(None)
        }
        None if !wants_material => Ok(None),
        _ => {
            let mut files = PemFiles::default();
            let mut tls = TlsOptions::default();
            tls.allow_invalid_certificates = spec.tls_allow_invalid_certificates;
            tls.allow_invalid_hostnames = spec.tls_allow_invalid_hostnames;
            tls.ca_file_path = match (&spec.tls_ca_pem, &spec.tls_ca_file) {
                (Some(pem), _) => Some(files.write("ca.pem", pem)?),
                (None, Some(path)) => Some(PathBuf::from(path)),
                (None, None) => None,
            };
            tls.cert_key_file_path = match (&spec.tls_cert_key_pem, &spec.tls_cert_key_file) {
                (Some(pem), _) => Some(files.write("cert-key.pem", pem)?),
                (None, Some(path)) => Some(PathBuf::from(path)),
                (None, None) => None,
            };
            options.tls = Some(Tls::Enabled(tls));
            Ok(files.dir.is_some().then_some(files))
        }
    }
}

fn compressors(names: &[String], zlib_level: Option<f64>) -> Result<Vec<Compressor>> {
    let level = whole(zlib_level, "zlibCompressionLevel")?
        .map(|l| u32::try_from(l).map_err(|_| invalid_value("zlibCompressionLevel")))
        .transpose()?;
    names
        .iter()
        .filter(|n| n.as_str() != "none")
        .map(|name| match name.as_str() {
            "zlib" => Ok(Compressor::Zlib { level }),
            "snappy" => Ok(Compressor::Snappy),
            "zstd" => Ok(Compressor::Zstd { level: None }),
            other => Err(LockError::UnsupportedOption {
                option: format!("compressors={other}"),
            }),
        })
        .collect()
}

/// The application's write concern when it acknowledges writes; `w: 0`
/// becomes the server's default acknowledged write, never unacknowledged.
fn write_concern(spec: &ClientSpec) -> Result<Option<WriteConcern>> {
    let w = match spec.write_concern_w.as_deref() {
        None | Some("0") => None,
        Some("majority") => Some(Acknowledgment::Majority),
        Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => Some(Acknowledgment::Nodes(
            n.parse().map_err(|_| invalid_value("writeConcern.w"))?,
        )),
        Some(tag) => Some(Acknowledgment::Custom(tag.to_string())),
    };
    let journal = spec.write_concern_journal.filter(|j| *j);
    if w.is_none() && journal.is_none() {
        return Ok(None);
    }
    let mut concern = WriteConcern::default();
    concern.w = w;
    concern.journal = journal;
    concern.w_timeout = millis(spec.write_concern_timeout_ms, "wtimeoutMS")?;
    Ok(Some(concern))
}

/// What the lock owns, whatever the application's settings are.
fn apply_lock_policy(options: &mut ClientOptions) {
    // Ownership is judged on the primary only, never on a stale secondary.
    options.selection_criteria = None;
    options.read_concern = None;
    // Acknowledged writes: an inherited `w: 0` would make every release a guess.
    if let Some(concern) = &options.write_concern {
        if matches!(concern.w, Some(Acknowledgment::Nodes(0))) {
            options.write_concern = None;
        }
    }
    options.max_pool_size = Some(
        options
            .max_pool_size
            .filter(|n| *n > 0)
            .map_or(LOCK_MAX_POOL_SIZE, |n| n.min(LOCK_MAX_POOL_SIZE)),
    );
    options.min_pool_size = None;
    // Polling monitors use one connection per server; streaming adds another.
    options.server_monitoring_mode = Some(ServerMonitoringMode::Poll);
    options.driver_info = Some(
        DriverInfo::builder()
            .name(DRIVER_NAME)
            .version(env!("CARGO_PKG_VERSION").to_string())
            .build(),
    );
}

fn invalid_value(option: &str) -> LockError {
    LockError::InvalidUri {
        message: format!("{option} has a value the lock cannot use"),
    }
}

/// A non-negative whole number of something, if given.
fn whole(value: Option<f64>, option: &str) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 && v <= u64::MAX as f64 => Ok(Some(v as u64)),
        Some(_) => Err(invalid_value(option)),
    }
}

/// A duration in ms, if given and not 0 (0 means "none" for Node's timeouts).
fn millis(value: Option<f64>, option: &str) -> Result<Option<Duration>> {
    Ok(whole(value, option)?
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis))
}

/// Temporary files holding PEMs given in memory: a fresh directory only this
/// user may enter, files only this user may read, all removed on drop. The
/// driver reads them once, while the client is built.
#[derive(Default)]
pub struct PemFiles {
    dir: Option<PathBuf>,
}

impl PemFiles {
    fn write(&mut self, name: &str, pem: &str) -> Result<PathBuf> {
        use std::io::Write;
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "mdl-pem-{}-{}",
                    std::process::id(),
                    mongodb::bson::oid::ObjectId::new().to_hex()
                ));
                let mut builder = std::fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(&dir).map_err(|e| pem_error(&e))?;
                self.dir = Some(dir.clone());
                dir
            }
        };
        let path = dir.join(name);
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        let mut file = open.open(&path).map_err(|e| pem_error(&e))?;
        file.write_all(pem.as_bytes()).map_err(|e| pem_error(&e))?;
        Ok(path)
    }

    /// The directory, while it exists (for tests).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }
}

impl Drop for PemFiles {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn pem_error(e: &std::io::Error) -> LockError {
    LockError::TlsConfig {
        message: format!("cannot write the in-memory certificate for the driver: {e}"),
    }
}

/// The option named by the Rust driver's "<option> is an invalid option".
fn refused_option(message: &str) -> Option<String> {
    let start = message.find(": ").map_or(0, |i| i + 2);
    let option = message[start..].split(" is an invalid option").next()?;
    (option.len() < message.len() - start && !option.contains(char::is_whitespace))
        .then(|| option.to_string())
}

/// The value of option `key` (compared case-insensitively) in a connection string.
fn option_value<'a>(uri: &'a str, key: &str) -> Option<&'a str> {
    let query = uri.split_once('?')?.1;
    query
        .split(['&', ';'])
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The spelling of option `key` (compared case-insensitively) in a connection string.
fn option_key(uri: &str, key: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    query
        .split(['&', ';'])
        .map(|pair| pair.split_once('=').map_or(pair, |(k, _)| k))
        .find(|k| k.eq_ignore_ascii_case(key))
        .map(str::to_string)
}

/// The connection string without option `key` (compared case-insensitively).
fn without_option(uri: &str, key: &str) -> String {
    let Some((base, query)) = uri.split_once('?') else {
        return uri.to_string();
    };
    let kept: Vec<&str> = query
        .split(['&', ';'])
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !name.eq_ignore_ascii_case(key)
        })
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// The password part of `scheme://user:password@host`, if any.
fn password_in_uri(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    if userinfo.contains('/') {
        return None; // the '@' is in the path or options, not in userinfo
    }
    Some(userinfo.split_once(':')?.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ClientSpec {
        ClientSpec::from_json(json).unwrap()
    }

    #[test]
    fn passwords_are_found_and_redacted() {
        let s = ClientSpec::from_uri("mongodb://alice:s3cret@db.example:27017/app");
        assert_eq!(password_in_uri(s.uri.as_deref().unwrap()), Some("s3cret"));
        assert_eq!(s.redact("bad s3cret here"), "bad **** here");
        assert_eq!(password_in_uri("mongodb://host/db?x=a@b"), None);
        let s = spec(
            r#"{"hosts":["h:1"],"username":"u","password":"hunter22","proxyPassword":"pxy-pw"}"#,
        );
        assert_eq!(s.redact("hunter22 pxy-pw"), "**** ****");
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter22") && !debug.contains("pxy-pw"));
    }

    #[test]
    fn keys_hold_no_secret_and_tell_settings_apart() {
        let a = spec(r#"{"hosts":["h:1"],"username":"u","password":"hunter22"}"#);
        let b = spec(r#"{"hosts":["h:1"],"username":"u","password":"other-pw"}"#);
        assert_ne!(a.key(), b.key());
        assert_eq!(a.key(), a.clone().key());
        assert!(!a.key().contains("hunter22"));
        assert_eq!(a.key().len(), 64);
    }

    #[test]
    fn unknown_fields_are_refused_by_name_and_values_never_echoed() {
        let err = ClientSpec::from_json(r#"{"hosts":["h:1"],"tlsCRLFile":"/x"}"#).unwrap_err();
        assert_eq!(err.code(), "ERR_UNSUPPORTED_CONNECTION_OPTION");
        assert!(err.to_string().contains("tlsCRLFile"));
        let err = ClientSpec::from_json(r#"{"tls":"topsecret"}"#).unwrap_err();
        assert!(!err.to_string().contains("topsecret"));
    }

    #[test]
    fn timeouts_are_taken_from_the_string() {
        assert_eq!(
            option_value("mongodb://h/db?socketTimeoutMS=1500", "sockettimeoutms"),
            Some("1500")
        );
        assert_eq!(option_value("mongodb://h/db", "socketTimeoutMS"), None);
        assert_eq!(
            without_option("mongodb://h/db?socketTimeoutMS=5&w=1", "sockettimeoutms"),
            "mongodb://h/db?w=1"
        );
        assert_eq!(
            without_option("mongodb://h/db?socketTimeoutMS=5", "socketTimeoutMS"),
            "mongodb://h/db"
        );
    }

    #[tokio::test]
    async fn strings_keep_their_options_and_refuse_what_the_driver_cannot_do() {
        let built =
            build(&ClientSpec::from_uri("mongodb://127.0.0.1:27017/app?socketTimeoutMS=100&timeoutMS=50&readPreference=secondary&w=0&maxPoolSize=100"))
                .await
                .unwrap();
        assert_eq!(built.operation_timeout, Duration::from_millis(50));
        assert_eq!(built.options.default_database.as_deref(), Some("app"));
        assert!(built.options.selection_criteria.is_none());
        assert!(built.options.write_concern.is_none());
        assert_eq!(built.options.max_pool_size, Some(LOCK_MAX_POOL_SIZE));
        // With OpenSSL, as in Node: the chain is checked, the name is not.
        let built = build(&ClientSpec::from_uri(
            "mongodb://h/?tls=true&tlsAllowInvalidHostnames=true",
        ))
        .await
        .unwrap();
        let Some(Tls::Enabled(tls)) = &built.options.tls else {
            panic!("tls must be on")
        };
        assert_eq!(tls.allow_invalid_hostnames, Some(true));
        assert_eq!(tls.allow_invalid_certificates, None);
        for (uri, code) in [
            (
                "mongodb://h/?tls=false&tlsAllowInvalidHostnames=true",
                "ERR_UNSUPPORTED_CONNECTION_OPTION",
            ),
            (
                "mongodb://h/?tlsAllowInvalidHostnames=yes",
                "ERR_INVALID_URI",
            ),
            (
                "mongodb://h/?tlsInsecure=true&tlsAllowInvalidHostnames=true",
                "ERR_INVALID_URI",
            ),
        ] {
            let err = build(&ClientSpec::from_uri(uri)).await.unwrap_err();
            assert_eq!(err.code(), code, "{uri}: {err}");
        }
        let built = build(&ClientSpec::from_uri("mongodb://h/?tlsInsecure=true"))
            .await
            .unwrap();
        let Some(Tls::Enabled(tls)) = &built.options.tls else {
            panic!("tls must be on")
        };
        assert_eq!(tls.allow_invalid_hostnames, Some(true));
        assert_eq!(tls.allow_invalid_certificates, Some(true));
        // A security setting the driver cannot honour is named, never dropped.
        let err = build(&ClientSpec::from_uri(
            "mongodb://h/?tls=true&tlsCRLFile=/etc/crl.pem",
        ))
        .await
        .unwrap_err();
        assert_eq!(err.code(), "ERR_UNSUPPORTED_CONNECTION_OPTION");
        assert!(err.to_string().contains("tlsCRLFile"), "{err}");
        let err = build(&ClientSpec::from_uri("mongodb://h/?bogusOption=1"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("bogusOption"), "{err}");
        let err = build(&ClientSpec::from_uri("mongodb://h/?socketTimeoutMS=-5"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_URI");
        let err = build(&ClientSpec::from_uri("mongodb://u@h/?authMechanism=GSSAPI"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ERR_UNSUPPORTED_CONNECTION_OPTION", "{err}");
        assert!(err.to_string().contains("authMechanism=GSSAPI"), "{err}");
        assert!(build(&ClientSpec::from_uri("localhost:27017"))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn fields_land_where_the_driver_reads_them() {
        let s = spec(
            r#"{"hosts":["127.0.0.1:27018","[::1]:27019"],"replicaSet":"rs0","directConnection":false,
            "username":"alice","password":"pw","authSource":"admin","authMechanism":"PLAIN",
            "authMechanismProperties":{"SERVICE_NAME":"x"},"tls":true,"tlsCaPem":"-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
            "tlsCertKeyFile":"/etc/client.pem","tlsAllowInvalidCertificates":false,"tlsAllowInvalidHostnames":true,"appName":"app",
            "compressors":["zlib","none","snappy"],"zlibCompressionLevel":6,
            "serverSelectionTimeoutMs":1500,"connectTimeoutMs":0,"socketTimeoutMs":2500,"heartbeatFrequencyMs":700,
            "maxPoolSize":3,"retryWrites":false,"proxyHost":"127.0.0.1","proxyPort":1080,"proxyUsername":"p","proxyPassword":"q",
            "serverApiVersion":"1","serverApiStrict":true,"writeConcernW":"majority","writeConcernTimeoutMs":500}"#,
        );
        let built = build(&s).await.unwrap();
        let o = &built.options;
        assert_eq!(o.hosts.len(), 2);
        assert_eq!(o.repl_set_name.as_deref(), Some("rs0"));
        let c = o.credential.as_ref().unwrap();
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.source.as_deref(), Some("admin"));
        assert_eq!(c.mechanism, Some(AuthMechanism::Plain));
        let Some(Tls::Enabled(tls)) = &o.tls else {
            panic!("tls must be on")
        };
        let ca = tls.ca_file_path.clone().unwrap();
        assert!(
            ca.exists(),
            "the in-memory CA is on disk while the client is built"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&ca).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(
            tls.cert_key_file_path.as_deref(),
            Some(std::path::Path::new("/etc/client.pem"))
        );
        assert_eq!(tls.allow_invalid_hostnames, Some(true));
        assert_eq!(tls.allow_invalid_certificates, Some(false));
        assert_eq!(o.compressors.as_ref().unwrap().len(), 2);
        assert_eq!(
            o.server_selection_timeout,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(o.connect_timeout, None);
        assert_eq!(built.operation_timeout, Duration::from_millis(2500));
        assert_eq!(o.heartbeat_freq, Some(Duration::from_millis(700)));
        assert_eq!(o.max_pool_size, Some(3));
        assert_eq!(o.retry_writes, Some(false));
        assert_eq!(o.socks5_proxy.as_ref().unwrap().port, Some(1080));
        assert_eq!(o.server_api.as_ref().unwrap().strict, Some(true));
        assert_eq!(
            o.write_concern.as_ref().unwrap().w,
            Some(Acknowledgment::Majority)
        );
        assert_eq!(o.server_monitoring_mode, Some(ServerMonitoringMode::Poll));
        drop(built);
        assert!(
            !ca.exists(),
            "the in-memory CA is removed once the client is built"
        );
    }

    #[tokio::test]
    async fn what_cannot_be_reproduced_is_refused_by_name() {
        let refused = |json: &'static str| async move {
            let err = build(&spec(json)).await.unwrap_err();
            assert_eq!(err.code(), "ERR_UNSUPPORTED_CONNECTION_OPTION", "{err}");
            err.to_string()
        };
        assert!(
            refused(r#"{"hosts":["h:1"],"authMechanism":"GSSAPI","username":"u"}"#)
                .await
                .contains("authMechanism=GSSAPI")
        );
        assert!(refused(r#"{"hosts":["h:1"],"compressors":["lz4"]}"#)
            .await
            .contains("compressors=lz4"));
        assert!(refused(r#"{"hosts":["h:1"],"tls":false,"tlsCaFile":"/x"}"#)
            .await
            .contains("tls=false"));
        assert!(
            refused(r#"{"hosts":["h:1"],"tls":false,"tlsAllowInvalidHostnames":true}"#)
                .await
                .contains("tls=false")
        );
        assert!(refused(r#"{"hosts":["h:1"],"serverApiVersion":"2"}"#)
            .await
            .contains("serverApi.version=2"));
        let err = build(&spec(r#"{"hosts":[]}"#)).await.unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_URI");
        let err = build(&spec(r#"{"srvHost":"evil/?x=1"}"#))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_URI");
    }

    #[tokio::test]
    async fn node_default_cas_are_trusted_only_when_no_ca_is_named() {
        const PEM: &str = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
        let ca_of = |built: &Built| match &built.options.tls {
            Some(Tls::Enabled(tls)) => tls.ca_file_path.clone(),
            _ => None,
        };
        let with = |json: &str| {
            let mut s = spec(json);
            s.tls_default_ca_pem = Some(PEM.to_string());
            s
        };
        // TLS on, no CA: the default CAs, in a private file removed on drop.
        let built = build(&with(r#"{"hosts":["h:1"],"tls":true}"#))
            .await
            .unwrap();
        let path = ca_of(&built).expect("the default CAs are trusted");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), PEM);
        drop(built);
        assert!(!path.exists());
        // A connection string with TLS on, too.
        let mut s = ClientSpec::from_uri("mongodb://h/?tls=true");
        s.tls_default_ca_pem = Some(PEM.to_string());
        assert!(ca_of(&build(&s).await.unwrap()).is_some());
        // A CA named, certificates unchecked, or TLS off: not used.
        let built = build(&with(
            r#"{"hosts":["h:1"],"tls":true,"tlsCaFile":"/etc/ca.pem"}"#,
        ))
        .await
        .unwrap();
        assert_eq!(ca_of(&built), Some(PathBuf::from("/etc/ca.pem")));
        let built = build(&with(
            r#"{"hosts":["h:1"],"tls":true,"tlsAllowInvalidCertificates":true}"#,
        ))
        .await
        .unwrap();
        assert_eq!(ca_of(&built), None);
        let built = build(&with(r#"{"hosts":["h:1"],"tls":false}"#))
            .await
            .unwrap();
        assert!(matches!(built.options.tls, Some(Tls::Disabled)));
        assert!(built.pem_files.is_none());
        let mut s = ClientSpec::from_uri("mongodb://h/");
        s.tls_default_ca_pem = Some(PEM.to_string());
        let built = build(&s).await.unwrap();
        assert!(built.options.tls.is_none() && built.pem_files.is_none());
    }

    #[tokio::test]
    async fn w0_and_secondary_reads_never_reach_the_lock() {
        let built = build(&spec(
            r#"{"hosts":["h:1"],"writeConcernW":"0","maxPoolSize":100}"#,
        ))
        .await
        .unwrap();
        assert!(built.options.write_concern.is_none());
        assert_eq!(built.options.max_pool_size, Some(LOCK_MAX_POOL_SIZE));
        let built = build(&spec(r#"{"hosts":["h:1"],"tls":false}"#))
            .await
            .unwrap();
        assert!(matches!(built.options.tls, Some(Tls::Disabled)));
    }
}
