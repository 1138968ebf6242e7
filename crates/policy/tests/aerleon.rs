//! Agreement with a peer nobody here wrote: Aerleon's `aclcheck` (PyPI) decides random flows
//! on generated policies exactly as `Matcher` does.
//!
//! The Python to run it with is `WATCHKEEPER_PEERS_PYTHON` (a Python with `aerleon`
//! installed); `scripts/test` makes one in a virtual environment.

use policy::matcher::Matcher;
use policy::synth::{self, Shape};

#[path = "peers/aerleon.rs"]
mod peer;

fn python() -> String {
    std::env::var("WATCHKEEPER_PEERS_PYTHON")
        .expect("WATCHKEEPER_PEERS_PYTHON must name a Python with aerleon installed; ./scripts/test makes one")
}

#[test]
fn aclcheck_agrees_with_match_on_random_flows() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (shape, seed) in [(Shape::Acl, 1), (Shape::Fw, 2), (Shape::Ipc, 3)] {
        let acl = synth::rules(shape, 300, seed);
        let flows = synth::trace(&acl, 400, seed + 100);
        let (_, theirs) = peer::aclcheck(&py, dir.path(), &acl, &flows);
        assert_eq!(theirs.len(), flows.len());
        let m = Matcher::new(&acl);
        for (f, their) in flows.iter().zip(&theirs) {
            assert_eq!(m.decide(f).rule, *their, "{shape:?} seed {seed}: {f:?}");
        }
        // The flows reach deep into the policy, not just its first lines.
        let deepest = theirs.iter().flatten().max().copied().unwrap_or(0);
        assert!(deepest > 200, "{shape:?}: the trace only reached rule {deepest}");
        checked += flows.len();
    }
    assert_eq!(checked, 1200);
}

/// One policy, rendered by Aerleon for eight targets (Cisco IOS, NX-OS, IOS-XR, ASA, Arista,
/// Brocade, Juniper Junos, Linux iptables), read back by our parsers: every rendering decides every IPv4 flow as the
/// policy does (a semantic diff against the IOS rendering finds nothing, and sampled flows
/// agree with the model the policy was generated from).
#[test]
fn aerleon_renderings_for_eight_targets_decide_alike() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    for (shape, seed) in [(Shape::Fw, 5), (Shape::Ipc, 6)] {
        let mut acl = synth::rules(shape, 200, seed);
        acl.name = "EDGE".into();
        let targets: Vec<String> =
            ["cisco EDGE extended", "cisconx EDGE", "ciscoxr EDGE", "arista EDGE", "brocade EDGE"]
                .iter()
                .map(|t| (*t).to_owned())
                .chain(["ciscoasa EDGE".to_owned(), "juniper EDGE inet".to_owned(), "speedway INPUT".to_owned()])
                .collect();
        let files = peer::render(&py, dir.path(), &acl, &targets);
        let read = |ext: &str| -> policy::acl::Acl {
            let text = files.get(ext).unwrap_or_else(|| panic!("aclgen wrote no .{ext}: {:?}", files.keys()));
            let device = match ext {
                "asa" => policy::asa::parse(text),
                "jcl" => policy::junos::parse(text),
                "ipt" => policy::iptables::parse(text),
                _ => policy::ios::parse(text),
            };
            assert!(device.warnings.is_empty(), ".{ext}: {:?}", device.warnings.first());
            // iptables filters are chains: the policy is the INPUT chain there.
            let name = if ext == "ipt" { "INPUT" } else { "EDGE" };
            device.acl(name).unwrap_or_else(|| panic!(".{ext} has no {name}")).clone()
        };
        let reference = read("acl");
        let flows = synth::trace(&acl, 2000, seed);
        for ext in ["acl", "nxacl", "xacl", "eacl", "bacl", "asa", "jcl", "ipt"] {
            let mut rendered = read(ext);
            // ASA's `any` is IPv6 too; the policy is an IPv4 one, compared on IPv4.
            rendered.family = policy::acl::Family::V4;
            for f in &flows {
                assert_eq!(rendered.decide(f).action, acl.decide(f).action, "{shape:?} .{ext}: {f:?}");
            }
            let space = policy::space::HeaderSpace::new();
            let blocks = policy::diff::diff(&space, &reference, &rendered).unwrap();
            assert!(blocks.is_empty(), "{shape:?} .{ext} decides differently from .acl: {:?}", blocks[0].summary);
        }
    }
}
