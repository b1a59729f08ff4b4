//! The FIB of eth0 (`fib_table_lookup` behind `ip_route_output_flow` / `ip_route_input_noref`):
//! longest-prefix match over the connected subnet, static routes and the default route.

use std::net::Ipv4Addr;

use super::config::{config_error, Cidr, RouteConfig, StackConfigError};

/// One FIB entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    dst: Cidr,
    via: Option<Ipv4Addr>,
}

/// Where a packet to some destination goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    /// The address whose MAC the neighbour layer resolves: the gateway, or the destination itself.
    pub addr: Ipv4Addr,
    /// The route goes through a gateway.
    pub via_gateway: bool,
}

/// Routes ordered by prefix length, longest first; among equal prefixes the first configured wins.
#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// The connected route of `iface`, then `routes`, then a default route via `gateway`. A gateway
    /// must be reachable on-link (`fib_check_nh`: "Nexthop has invalid gateway").
    pub fn new(
        iface: Cidr,
        gateway: Option<Ipv4Addr>,
        routes: &[RouteConfig],
    ) -> Result<RouteTable, StackConfigError> {
        let connected = Cidr {
            addr: iface.network(),
            prefix_len: iface.prefix_len,
        };
        let mut table = vec![Route {
            dst: connected,
            via: None,
        }];
        for (i, r) in routes.iter().enumerate() {
            if let Some(gw) = r.via {
                if !connected.contains(gw) {
                    return Err(config_error(
                        format!("routes[{i}].via"),
                        format!("gateway {gw} is not on-link ({connected})"),
                    ));
                }
            }
            table.push(Route {
                dst: Cidr {
                    addr: r.dst.network(),
                    prefix_len: r.dst.prefix_len,
                },
                via: r.via,
            });
        }
        if let Some(gw) = gateway {
            if !connected.contains(gw) {
                return Err(config_error(
                    "gateway",
                    format!("{gw} is not on-link ({connected})"),
                ));
            }
            table.push(Route {
                dst: Cidr::ANY,
                via: Some(gw),
            });
        }
        // Stable sort keeps configuration order among equal prefix lengths.
        table.sort_by_key(|r| std::cmp::Reverse(r.dst.prefix_len));
        Ok(RouteTable { routes: table })
    }

    /// Longest-prefix match; `None` is `-ENETUNREACH`.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<NextHop> {
        self.routes
            .iter()
            .find(|r| r.dst.contains(dst))
            .map(|r| NextHop {
                addr: r.via.unwrap_or(dst),
                via_gateway: r.via.is_some(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let t = RouteTable::new(
            cidr("10.0.0.1/24"),
            Some(ip("10.0.0.254")),
            &[
                RouteConfig {
                    dst: cidr("192.168.0.0/16"),
                    via: Some(ip("10.0.0.2")),
                },
                RouteConfig {
                    dst: cidr("192.168.7.0/24"),
                    via: Some(ip("10.0.0.3")),
                },
            ],
        )
        .unwrap();
        let hop = |d| t.lookup(ip(d)).unwrap().addr;
        assert_eq!(hop("10.0.0.9"), ip("10.0.0.9"), "connected: on-link");
        assert!(!t.lookup(ip("10.0.0.9")).unwrap().via_gateway);
        assert_eq!(hop("192.168.1.1"), ip("10.0.0.2"));
        assert_eq!(hop("192.168.7.1"), ip("10.0.0.3"));
        assert_eq!(hop("8.8.8.8"), ip("10.0.0.254"));
    }

    #[test]
    fn no_default_route_means_unreachable() {
        let t = RouteTable::new(cidr("10.0.0.1/24"), None, &[]).unwrap();
        assert_eq!(t.lookup(ip("8.8.8.8")), None);
    }

    #[test]
    fn off_link_gateway_is_rejected() {
        let e = RouteTable::new(cidr("10.0.0.1/24"), Some(ip("10.0.1.1")), &[]).unwrap_err();
        assert_eq!(e.field, "gateway");
        let e = RouteTable::new(
            cidr("10.0.0.1/24"),
            None,
            &[RouteConfig {
                dst: cidr("1.0.0.0/8"),
                via: Some(ip("9.9.9.9")),
            }],
        )
        .unwrap_err();
        assert_eq!(e.field, "routes[0].via");
    }
}
