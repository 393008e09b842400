//! The client's address, for the per-address limits. Behind a reverse proxy every
//! connection comes from the proxy, so the address it forwards (`Forwarded` or
//! `X-Forwarded-For`) is believed, but only when the connection comes from a proxy the
//! operator named: anyone else could write those headers.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::AppState;
use crate::error::ApiError;

/// The address a request comes from.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The addresses a request says it was forwarded for, nearest proxy last.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let mut chain = Vec::new();
    // RFC 7239: Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"
    for value in headers.get_all("forwarded") {
        for element in value.to_str().unwrap_or_default().split(',') {
            for pair in element.split(';') {
                let Some((name, node)) = pair.trim().split_once('=') else {
                    continue;
                };
                if name.trim().eq_ignore_ascii_case("for")
                    && let Some(ip) = parse_node(node.trim().trim_matches('"'))
                {
                    chain.push(ip);
                }
            }
        }
    }
    if chain.is_empty() {
        for value in headers.get_all("x-forwarded-for") {
            chain.extend(
                value
                    .to_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|n| parse_node(n.trim())),
            );
        }
    }
    chain
}

/// `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = node.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    node.strip_prefix('[')
        .and_then(|n| n.split(']').next())
        .and_then(|n| n.parse().ok())
}

/// The client: the peer, or, when the peer is a trusted proxy, the nearest forwarded
/// address that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    chain
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(chain.first())
        .copied()
        .unwrap_or(peer)
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or(ApiError::BadRequest("no client address".into()))?;
        Ok(ClientAddr(client_address(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7")]);
        // From the proxy: the nearest address it did not add itself.
        assert_eq!(
            client_address(proxy, &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // From anyone else: the header is theirs to write, so it is ignored.
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_address(stranger, &h, &trusted), stranger);
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        let h = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.7",
        )]);
        assert_eq!(
            client_address(proxy, &h, &trusted),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }
}
