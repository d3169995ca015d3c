//! HTTP GET with timeouts, retries with backoff and a size cap.

use std::time::Duration;

use ureq::Agent;
use ureq::tls::{RootCerts, TlsConfig};

use crate::{ClientOptions, Error};

/// A blocking HTTP client for registry requests.
#[derive(Debug)]
pub(crate) struct Http {
    agent: Agent,
    tries: u32,
    backoff: Duration,
    max_size: u64,
}

/// What one attempt came to.
enum Attempt {
    Done(Vec<u8>),
    Retry(Error),
    Fail(Error),
}

impl Http {
    pub(crate) fn new(options: &ClientOptions) -> Http {
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::PlatformVerifier)
            .build();
        let agent: Agent = Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.timeout))
            .user_agent(concat!("cordon/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Http {
            agent,
            tries: options.tries.max(1),
            backoff: options.backoff,
            max_size: options.max_response_size,
        }
    }

    /// GETs `url` for `package`, retrying timeouts, connection failures
    /// and 5xx answers; 404 is [`Error::NotFound`].
    pub(crate) fn get(
        &self,
        package: &str,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(package, url, accept) {
                Attempt::Done(bytes) => return Ok(bytes),
                Attempt::Retry(err) if attempt < self.tries => {
                    let wait = self.backoff * 2u32.pow(attempt - 1);
                    tracing::debug!(%url, attempt, "retrying: {err}");
                    std::thread::sleep(wait);
                }
                Attempt::Retry(err) | Attempt::Fail(err) => return Err(err),
            }
        }
    }

    fn attempt(
        &self,
        package: &str,
        url: &str,
        accept: Option<&str>,
    ) -> Attempt {
        let mut request = self.agent.get(url);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let mut response = match request.call() {
            Ok(response) => response,
            Err(err) => return self.failure(package, url, err),
        };

        let status = response.status().as_u16();
        let status_error = || Error::Status {
            package: package.to_string(),
            url: url.to_string(),
            status,
        };
        match status {
            200..=299 => {}
            404 | 410 => {
                return Attempt::Fail(Error::NotFound {
                    package: package.to_string(),
                    url: url.to_string(),
                });
            }
            429 | 500..=599 => return Attempt::Retry(status_error()),
            _ => return Attempt::Fail(status_error()),
        }

        let body = response.body_mut().with_config().limit(self.max_size);
        match body.read_to_vec() {
            Ok(bytes) => Attempt::Done(bytes),
            Err(err) => self.failure(package, url, err),
        }
    }

    fn failure(&self, package: &str, url: &str, err: ureq::Error) -> Attempt {
        let (package, url) = (package.to_string(), url.to_string());
        if let ureq::Error::BodyExceedsLimit(_) = err {
            let limit = self.max_size;
            return Attempt::Fail(Error::TooLarge { package, url, limit });
        }
        let timeout = matches!(err, ureq::Error::Timeout(_));
        let transient = timeout
            || matches!(
                err,
                ureq::Error::Io(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::BodyStalled
                    | ureq::Error::HostNotFound
            );
        let message = match &err {
            ureq::Error::Timeout(_) => format!("timed out ({err})"),
            _ => err.to_string(),
        };
        let error = Error::Http { package, url, message, timeout };
        if transient { Attempt::Retry(error) } else { Attempt::Fail(error) }
    }
}
