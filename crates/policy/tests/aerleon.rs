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
