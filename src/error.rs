//! Errors of the lock core, as an enum with context, and their stable codes.
//!
//! Every failure crosses the N-API boundary as a [`Failure`] value inside a
//! reply (never as a thrown exception), so the JS layer can build an `Error`
//! whose `message` and `code` are stable and documented.

use std::fmt;

use mongodb::error::{Error as DriverError, ErrorKind, WriteFailure};

/// Server code of a duplicate key violation (E11000).
pub const DUPLICATE_KEY: i32 = 11000;
/// Server code of "namespace not found" (listIndexes on a missing collection).
pub const NAMESPACE_NOT_FOUND: i32 = 26;

#[derive(Debug, Clone)]
pub enum LockError {
    /// A name, lock id or timeout that the protocol cannot use.
    InvalidArgument { code: &'static str, message: String },
    /// The connection string could not be parsed or its options are invalid.
    InvalidUri { message: String },
    /// A connection setting the lock's driver cannot reproduce (named).
    UnsupportedOption { option: String },
    /// The TLS settings could not be used (a CA or key file that cannot be read).
    TlsConfig { message: String },
    /// The server is older than the driver supports (MongoDB 4.4).
    ServerVersion { message: String },
    /// The lock's connection was closed (the application's closed, or `Lock.close()`).
    ConnectionClosed,
    /// The caller aborted the call (an `AbortSignal`).
    Aborted,
    /// The unique index on `name` is missing and could not be created.
    Index { message: String },
    /// The server answered with an error.
    Server {
        operation: &'static str,
        code: i32,
        code_name: Option<String>,
        message: String,
        labels: Vec<String>,
    },
    /// The server could not be reached, or the connection broke.
    Network {
        operation: &'static str,
        message: String,
        labels: Vec<String>,
    },
    /// The operation did not finish within its bound (`socketTimeoutMS`).
    Timeout {
        operation: &'static str,
        after_ms: u128,
    },
    /// Any other driver error.
    Driver {
        operation: &'static str,
        message: String,
    },
    /// A bug: a panic in the core, caught before it could abort the process.
    Internal { message: String },
    /// An acquire failed after sending its insert: whether the lock document
    /// `lock_id` went in is unknown. The core withdraws it once the server
    /// answers again, and the caller may recognise it as its own.
    Unresolved {
        lock_id: mongodb::bson::oid::ObjectId,
        source: Box<LockError>,
    },
}

/// Whether a server selection failed because the server is too old (or too
/// new) for the driver, as the driver words it.
fn is_incompatible_server(message: &str) -> bool {
    message.contains("reports wire version") || message.contains("requires wire version")
}

/// Every `code` an Error of this package can carry, with what it means: the
/// one list that `Lock.codes`, `index.d.ts` and the README are checked against.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("ERR_MISSING_NAME", "missing_name: the name is falsy"),
    ("ERR_INVALID_NAME", "the name is not a string or finite number, or it has a lone surrogate, a NUL, or more than 1000 UTF-8 bytes"),
    ("ERR_INVALID_OPTION", "an option or property is not usable"),
    ("ERR_INVALID_CALLBACK", "the callback is not a function"),
    ("ERR_INVALID_LOCK_ID", "lockId was set to something that is not an ObjectId's hex"),
    ("ERR_LOCK_ALREADY_ACQUIRED", "lock_already_aquired: this instance holds the lock"),
    ("ERR_LOCK_NOT_ACQUIRED", "releasing_not_aquired_lock / extending_not_aquired_lock: this instance does not hold the lock"),
    ("ERR_LOCK_LOST", "lock_lost: the lock was lost while a scoped lock's work ran (withLock, hold)"),
    ("ERR_POLL_TIMEOUT", "timeout in pollAquire for lock name<name>: pollAcquire gave up"),
    ("ERR_NO_CONNECTION", "no_connection: no mongoose connection, option or MONGODB_URI"),
    ("ERR_CONNECTION_CLOSED", "connection_closed: the lock's connection was closed"),
    ("ERR_INVALID_URI", "the connection string or settings cannot be used"),
    ("ERR_UNSUPPORTED_CONNECTION_OPTION", "unsupported_connection_option: a connection setting the lock cannot reproduce"),
    ("ERR_TLS_CONFIG", "the TLS settings cannot be used (a CA or key file that cannot be read)"),
    ("ERR_SERVER_VERSION", "the server is older than MongoDB 4.4"),
    ("ERR_INDEX", "the unique index on name is missing, unsafe, or cannot be built"),
    ("ERR_MONGODB_SERVER", "a server error without a numeric code"),
    ("ERR_MONGODB_NETWORK", "the server cannot be reached, or the connection broke"),
    ("ERR_MONGODB_TIMEOUT", "the call took longer than socketTimeoutMS: the server stopped answering"),
    ("ERR_MONGODB", "another driver error"),
    ("ERR_INTERNAL", "a bug in the native core (a caught panic); the process lives on"),
    ("ABORT_ERR", "the call was aborted by its AbortSignal (name AbortError, as Node's own)"),
];

/// The oldest server the Rust driver talks to.
pub const MIN_SERVER_VERSION: &str = "MongoDB 4.4";

impl LockError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        LockError::InvalidArgument {
            code,
            message: message.into(),
        }
    }

    /// Wraps a driver error with the operation that failed.
    pub fn driver(operation: &'static str, err: DriverError) -> Self {
        let labels: Vec<String> = err.labels().iter().cloned().collect();
        match *err.kind {
            ErrorKind::Command(ref c) => LockError::Server {
                operation,
                code: c.code,
                code_name: Some(c.code_name.clone()).filter(|n| !n.is_empty()),
                message: c.message.clone(),
                labels,
            },
            ErrorKind::Write(WriteFailure::WriteError(ref w)) => LockError::Server {
                operation,
                code: w.code,
                code_name: w.code_name.clone(),
                message: w.message.clone(),
                labels,
            },
            ErrorKind::Write(WriteFailure::WriteConcernError(ref w)) => LockError::Server {
                operation,
                code: w.code,
                code_name: Some(w.code_name.clone()).filter(|n| !n.is_empty()),
                message: w.message.clone(),
                labels,
            },
            ErrorKind::InvalidArgument { ref message, .. } => LockError::InvalidUri {
                message: message.clone(),
            },
            ErrorKind::InvalidTlsConfig { ref message, .. } => LockError::TlsConfig {
                message: message.clone(),
            },
            ErrorKind::IncompatibleServer { ref message, .. } => LockError::ServerVersion {
                message: message.clone(),
            },
            // The driver reports a server it cannot talk to as a failed selection.
            ErrorKind::ServerSelection { ref message, .. } if is_incompatible_server(message) => {
                LockError::ServerVersion {
                    message: message.clone(),
                }
            }
            ErrorKind::Shutdown => LockError::ConnectionClosed,
            ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => LockError::Network {
                operation,
                message: err.kind.to_string(),
                labels,
            },
            _ => LockError::Driver {
                operation,
                message: err.kind.to_string(),
            },
        }
    }

    /// The server's error code, for server errors.
    pub fn server_code(&self) -> Option<i32> {
        match self {
            LockError::Server { code, .. } => Some(*code),
            LockError::Unresolved { source, .. } => source.server_code(),
            _ => None,
        }
    }

    /// Whether the connection broke or an answer did not come: the outcome of
    /// a write is then unknown, and the clock offset must be re-measured.
    pub fn is_network(&self) -> bool {
        match self {
            LockError::Network { .. } | LockError::Timeout { .. } => true,
            LockError::Unresolved { source, .. } => source.is_network(),
            _ => false,
        }
    }

    /// The lock document whose insert has an unknown outcome, if any.
    pub fn unresolved_lock_id(&self) -> Option<mongodb::bson::oid::ObjectId> {
        match self {
            LockError::Unresolved { lock_id, .. } => Some(*lock_id),
            _ => None,
        }
    }

    /// The stable code the JS layer puts on the `Error` when the server gave none.
    pub fn code(&self) -> &'static str {
        match self {
            LockError::InvalidArgument { code, .. } => code,
            LockError::InvalidUri { .. } => "ERR_INVALID_URI",
            LockError::UnsupportedOption { .. } => "ERR_UNSUPPORTED_CONNECTION_OPTION",
            LockError::TlsConfig { .. } => "ERR_TLS_CONFIG",
            LockError::ServerVersion { .. } => "ERR_SERVER_VERSION",
            LockError::ConnectionClosed => "ERR_CONNECTION_CLOSED",
            LockError::Aborted => "ABORT_ERR",
            LockError::Index { .. } => "ERR_INDEX",
            LockError::Server { .. } => "ERR_MONGODB_SERVER",
            LockError::Network { .. } => "ERR_MONGODB_NETWORK",
            LockError::Timeout { .. } => "ERR_MONGODB_TIMEOUT",
            LockError::Driver { .. } => "ERR_MONGODB",
            LockError::Internal { .. } => "ERR_INTERNAL",
            LockError::Unresolved { source, .. } => source.code(),
        }
    }
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::InvalidArgument { message, .. } => f.write_str(message),
            LockError::InvalidUri { message } => write!(f, "invalid connection string: {message}"),
            LockError::UnsupportedOption { option } => write!(
                f,
                "unsupported_connection_option: the lock cannot reproduce the connection setting \
                 {option} of its connection string; take it out of the lock's `uri` option (or \
                 MONGODB_URI) (see the README, \"Connection settings\")"
            ),
            LockError::TlsConfig { message } => write!(f, "TLS settings cannot be used: {message}"),
            LockError::ServerVersion { message } => write!(
                f,
                "the server is too old: the lock needs {MIN_SERVER_VERSION} or later ({message})"
            ),
            LockError::Aborted => f.write_str("The operation was aborted"),
            LockError::ConnectionClosed => f.write_str(
                "connection_closed: the lock's connection was closed (mongoose.disconnect(), \
                 connection.close() or Lock.close())",
            ),
            LockError::Index { message } => f.write_str(message),
            LockError::Server { message, .. } => f.write_str(message),
            LockError::Network {
                operation, message, ..
            } => {
                write!(f, "{operation} failed: {message}")
            }
            LockError::Timeout {
                operation,
                after_ms,
            } => write!(
                f,
                "{operation} did not finish within {after_ms} ms (socketTimeoutMS)"
            ),
            LockError::Driver { operation, message } => write!(f, "{operation} failed: {message}"),
            LockError::Internal { message } => write!(f, "internal error: {message}"),
            LockError::Unresolved { source, .. } => source.fmt(f),
        }
    }
}

impl std::error::Error for LockError {}

pub type Result<T> = std::result::Result<T, LockError>;

/// Turns a caught panic payload into an error, keeping its text when it has one.
pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> LockError {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    LockError::Internal {
        message: format!("panic in the native core: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_payloads_keep_their_text() {
        let err = from_panic(&"boom");
        assert_eq!(err.code(), "ERR_INTERNAL");
        assert!(err.to_string().contains("boom"));
        let err = from_panic(&String::from("owned"));
        assert!(err.to_string().contains("owned"));
        let err = from_panic(&42_u8);
        assert!(err.to_string().contains("unknown panic"));
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(
            LockError::invalid("ERR_INVALID_NAME", "x").code(),
            "ERR_INVALID_NAME"
        );
        assert_eq!(
            LockError::InvalidUri {
                message: "x".into()
            }
            .code(),
            "ERR_INVALID_URI"
        );
        let server = LockError::Server {
            operation: "insert",
            code: 11000,
            code_name: None,
            message: "dup".into(),
            labels: vec![],
        };
        assert_eq!(server.server_code(), Some(11000));
        assert_eq!(server.code(), "ERR_MONGODB_SERVER");
        assert!(!server.is_network());
    }

    #[test]
    fn every_code_the_core_makes_is_listed() {
        let listed = |code: &str| ERROR_CODES.iter().any(|(c, _)| *c == code);
        let made = [
            LockError::InvalidUri {
                message: "x".into(),
            },
            LockError::UnsupportedOption { option: "x".into() },
            LockError::TlsConfig {
                message: "x".into(),
            },
            LockError::ServerVersion {
                message: "x".into(),
            },
            LockError::ConnectionClosed,
            LockError::Aborted,
            LockError::Index {
                message: "x".into(),
            },
            LockError::Timeout {
                operation: "x",
                after_ms: 1,
            },
            LockError::Network {
                operation: "x",
                message: "x".into(),
                labels: vec![],
            },
            LockError::Driver {
                operation: "x",
                message: "x".into(),
            },
            LockError::Internal {
                message: "x".into(),
            },
        ];
        for err in made {
            assert!(listed(err.code()), "{} is not in ERROR_CODES", err.code());
        }
    }

    #[test]
    fn an_old_server_is_named_with_the_minimum() {
        // The driver's own words (mongodb 3.x, sdam/description/server.rs).
        let message = "Server at 127.0.0.1:1 reports wire version 8, but this version of the \
                       MongoDB Rust driver requires at least 9 (MongoDB 4.4).";
        assert!(is_incompatible_server(message));
        assert!(!is_incompatible_server(
            "Server selection timeout: No available servers"
        ));
        let err = LockError::ServerVersion {
            message: message.into(),
        };
        assert_eq!(err.code(), "ERR_SERVER_VERSION");
        assert!(err.to_string().contains("MongoDB 4.4 or later"));
    }

    #[test]
    fn an_unresolved_insert_keeps_its_cause() {
        let lock_id = mongodb::bson::oid::ObjectId::new();
        let err = LockError::Unresolved {
            lock_id,
            source: Box::new(LockError::Timeout {
                operation: "acquire",
                after_ms: 5,
            }),
        };
        assert_eq!(err.code(), "ERR_MONGODB_TIMEOUT");
        assert!(err.is_network());
        assert_eq!(err.unresolved_lock_id(), Some(lock_id));
    }
}
