//! What a parser reads from one device configuration, whatever the vendor: its filters in
//! the vendor-neutral model, the object-groups they use, interfaces and which filter each
//! applies, and warnings for what could not be used (with line numbers).

use crate::acl::Acl;

/// Something in the file the parser could not use, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub text: String,
    pub message: String,
}

/// A filter applied to an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub line: usize,
    pub interface: String,
    pub acl: String,
    /// `in` or `out`.
    pub direction: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    pub line: usize,
    pub name: String,
    /// `address/prefix-length`, as configured.
    pub addresses: Vec<String>,
    pub shutdown: bool,
    /// ASA: the name filters and NAT refer to the interface by, and its security level.
    /// IOS: the interface's NAT side (`inside`, `outside`).
    pub nameif: Option<String>,
    pub security_level: Option<u8>,
    /// The security zone it is in (PAN-OS, SRX).
    pub zone: Option<String>,
    /// First-hop redundancy groups (HSRP, VRRP) it takes part in.
    pub redundancy: Vec<Redundancy>,
    /// `bandwidth` in kbit/s, when configured (OSPF derives costs from it).
    pub bandwidth_kbps: Option<u64>,
    /// `ip ospf cost`.
    pub ospf_cost: Option<u32>,
    /// `ip ospf PROCESS area AREA`: OSPF enabled on the interface itself.
    pub ospf_area: Option<u32>,
}

/// A virtual address shared by routers: the one with the highest priority answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redundancy {
    /// `hsrp` or `vrrp`.
    pub protocol: &'static str,
    pub group: u32,
    pub address: Option<std::net::IpAddr>,
    pub priority: u8,
}

/// What a parser read from one device configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub hostname: Option<String>,
    pub acls: Vec<Acl>,
    /// Zone-based policies (PAN-OS vsys and device groups, SRX security policies).
    pub zone_policies: Vec<crate::zone::ZonePolicy>,
    /// Names of filters some of whose lines could not be read.
    pub partial: Vec<String>,
    /// The objects and object-groups defined, in file order.
    pub object_groups: Vec<Object>,
    pub interfaces: Vec<Interface>,
    pub bindings: Vec<Binding>,
    /// Static routes the configuration sets (connected ones come from the interfaces).
    pub routes: Vec<crate::route::Route>,
    /// The OSPF process (the first, when there are several).
    pub ospf: Option<crate::ospf::Process>,
    /// The BGP process, and the route maps, prefix lists and community lists it uses.
    pub bgp: Option<crate::bgp::Process>,
    pub routing_policy: crate::bgp::Policies,
    /// Address translation rules, in evaluation order.
    pub nat: Vec<crate::nat::NatRule>,
    /// When the rules apply to a packet passing through, which is the vendor's.
    pub nat_order: crate::nat::NatOrder,
    /// Addresses it answers ARP for on an interface without owning them (SRX `proxy-arp`;
    /// ASA, IOS and PAN-OS do so for their NAT addresses by themselves).
    pub proxy_arp: Vec<(String, std::net::IpAddr)>,
    pub warnings: Vec<Warning>,
}

/// A named object or object-group that rules can refer to, and where it is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub name: String,
    pub line: usize,
    /// Used in a way no other line shows (an ASA object carrying its own NAT rule).
    pub in_use: bool,
}

impl Device {
    pub fn acl(&self, name: &str) -> Option<&Acl> {
        self.acls.iter().find(|a| a.name == name)
    }

    /// Records that some lines of filter `name` could not be read.
    pub(crate) fn mark_partial(&mut self, name: &str) {
        if !self.partial.iter().any(|p| p == name) {
            self.partial.push(name.to_owned());
        }
    }

    /// A warning for every binding whose filter is not defined; `describe` gives the
    /// binding's line as the vendor writes it and what that means there.
    pub(crate) fn warn_undefined_bindings(&mut self, describe: impl Fn(&Binding) -> (String, String)) {
        let missing: Vec<Warning> = self
            .bindings
            .iter()
            .filter(|b| self.acl(&b.acl).is_none())
            .map(|b| {
                let (text, message) = describe(b);
                Warning { line: b.line, text, message }
            })
            .collect();
        self.warnings.extend(missing);
    }

    /// The objects that no line of the configuration names but their own definition:
    /// neither a rule nor another group refers to them. `lines` are the configuration's
    /// lines as words.
    pub fn unused_objects(&self, lines: &[(usize, Vec<String>)]) -> Vec<&Object> {
        let mut named: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (_, words) in lines {
            let mut seen = std::collections::HashSet::new();
            for w in words {
                if seen.insert(w.as_str()) {
                    *named.entry(w.as_str()).or_default() += 1;
                }
            }
        }
        // A name on one line only is named by its definition alone.
        self.object_groups
            .iter()
            .filter(|o| !o.in_use && named.get(o.name.as_str()).copied().unwrap_or(0) <= 1)
            .collect()
    }
}
