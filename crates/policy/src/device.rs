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
    pub nameif: Option<String>,
    pub security_level: Option<u8>,
}

/// What a parser read from one device configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub hostname: Option<String>,
    pub acls: Vec<Acl>,
    /// Names of filters some of whose lines could not be read.
    pub partial: Vec<String>,
    pub object_groups: Vec<String>,
    pub interfaces: Vec<Interface>,
    pub bindings: Vec<Binding>,
    pub warnings: Vec<Warning>,
}

impl Device {
    pub fn acl(&self, name: &str) -> Option<&Acl> {
        self.acls.iter().find(|a| a.name == name)
    }
}
