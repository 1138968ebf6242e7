//! The demo estate: two treatment plants with OT networks, a datacentre, the WAN between them,
//! firewalls and the services that stand on them, with redundancy where a real estate has it,
//! and one account per role, so a newcomer sees a living system on first start.

use crate::AppError;
use crate::audit::event;
use crate::secret::hash_password;
use crate::{Actor, App, Result};
use model::Role;
use model::cmdb::{ItemFields, RelationKind};
use model::supplier::needs_contract;
use serde_json::json;
use std::collections::HashMap;
use store::{ItemWrite, NewSite, Target};

/// The password of every demo account (never of `admin`). Printed on the login page in demo mode.
pub const DEMO_PASSWORD: &str = "watchkeeper-demo";

const DAY_MS: i64 = 86_400_000;

/// (username, display name, role, site scope, expires in days)
type DemoUser = (&'static str, &'static str, Role, &'static [&'static str], Option<i64>);

const DEMO_USERS: &[DemoUser] = &[
    ("viewer", "Vera Viewer (management)", Role::Viewer, &[], None),
    ("operator", "Omar Operator (L1 shift)", Role::Operator, &[], None),
    ("engineer", "Erin Engineer (L3 network)", Role::Engineer, &[], None),
    ("change-manager", "Chris Change (CAB chair)", Role::ChangeManager, &[], None),
    ("auditor", "Ada Auditor (compliance)", Role::Auditor, &[], None),
    ("ops-lead", "Lee Lead (operations lead)", Role::Admin, &[], None),
    ("vendor-siemens", "Siemens field service (plant only)", Role::Engineer, &["plant-north"], Some(30)),
];

const SITES: &[NewSite<'static>] = &[
    NewSite {
        slug: "plant-north",
        name: "Northfield Water Treatment Plant",
        kind: "plant",
        zone: "OT",
        purdue_level: Some(2),
        criticality: "critical",
        time_zone: "Europe/London",
    },
    NewSite {
        slug: "plant-south",
        name: "Southmere Wastewater Works",
        kind: "plant",
        zone: "OT",
        purdue_level: Some(2),
        criticality: "critical",
        time_zone: "Europe/London",
    },
    NewSite {
        slug: "dc-east",
        name: "Eastgate Datacentre",
        kind: "datacentre",
        zone: "IT",
        purdue_level: None,
        criticality: "high",
        time_zone: "Europe/London",
    },
];

const DEMO_RTR_V1: &str = include_str!("demo-configs/pn-wan-rtr1-v1.cfg");
const DEMO_RTR_V2: &str = include_str!("demo-configs/pn-wan-rtr1-v2.cfg");
const DEMO_FW: &str = include_str!("demo-configs/dc-fw1.cfg");

/// The estate, one line per item:
/// `name | class | site | vendor | model | OS | management address | criticality | support group | end of support`.
/// Services, applications' owners and WAN circuits are items too; services belong to no site.
const ESTATE_ITEMS: &str = "\
pn-core-sw1 | switch | plant-north | Cisco | IE-9320 | IOS-XE 17.12.4 | 10.20.0.2 | critical | L3 Network
pn-core-sw2 | switch | plant-north | Cisco | IE-9320 | IOS-XE 17.12.4 | 10.20.0.3 | critical | L3 Network
pn-cell-sw1 | switch | plant-north | Cisco | IE-3400 | IOS-XE 17.9.5 | 10.20.1.2 | high | L3 Network
pn-cell-sw2 | switch | plant-north | Cisco | IE-3400 | IOS-XE 17.9.5 | 10.20.1.3 | high | L3 Network
pn-cell-sw3 | switch | plant-north | Siemens | SCALANCE XC216 | V4.5 | 10.20.1.4 | high | OT Engineering | 2026-06-30
pn-fw1 | firewall | plant-north | Palo Alto Networks | PA-3410 | PAN-OS 11.1.4 | 10.20.0.10 | critical | L3 Security
pn-fw2 | firewall | plant-north | Palo Alto Networks | PA-3410 | PAN-OS 11.1.4 | 10.20.0.11 | critical | L3 Security
pn-wan-rtr1 | router | plant-north | Cisco | ISR 4331 | IOS-XE 17.9.5 | 10.20.0.1 | critical | L3 Network | 2028-10-31
pn-wlc1 | wireless-controller | plant-north | Cisco | C9800-L | IOS-XE 17.12.3 | 10.20.0.20 | medium | L2 Network
pn-plc-filtration | plc | plant-north | Siemens | S7-1500 | V3.1 | 10.20.10.11 | critical | OT Engineering
pn-plc-dosing | plc | plant-north | Siemens | S7-1500 | V3.1 | 10.20.10.12 | critical | OT Engineering
pn-plc-pumps | plc | plant-north | Rockwell | ControlLogix 5580 | v35 | 10.20.10.13 | critical | OT Engineering | 2029-12-31
pn-scada-01 | industrial-pc | plant-north | Siemens | SIMATIC IPC847E | WinCC 8.0 | 10.20.2.21 | critical | OT Engineering
pn-scada-02 | industrial-pc | plant-north | Siemens | SIMATIC IPC847E | WinCC 8.0 | 10.20.2.22 | critical | OT Engineering
pn-historian | historian | plant-north | Dell | PowerEdge R660 | Windows Server 2022 | 10.20.2.30 | high | Server Team | 2031-05-31
pn-hmi-ops1 | industrial-pc | plant-north | Siemens | IPC477E | WinCC RT 8.0 | 10.20.3.41 | high | OT Engineering | 2026-01-14
pn-ups-1 | power | plant-north | Eaton | 93PM 50kW | FW 3.2 | 10.20.0.50 | high | Facilities
pn-vtc-control | vtc-endpoint | plant-north | Cisco | Room Kit Pro | RoomOS 11.14 | 10.20.4.10 | low | Voice & VTC
dc-core-sw1 | switch | dc-east | Cisco | Nexus 93180YC-FX3 | NX-OS 10.4(3) | 10.10.0.2 | critical | L3 Network
dc-core-sw2 | switch | dc-east | Cisco | Nexus 93180YC-FX3 | NX-OS 10.4(3) | 10.10.0.3 | critical | L3 Network
dc-edge-rtr1 | router | dc-east | Juniper | MX204 | Junos 23.4R2 | 10.10.0.1 | critical | L3 Network
dc-edge-rtr2 | router | dc-east | Juniper | MX204 | Junos 23.4R2 | 10.10.0.4 | critical | L3 Network
dc-fw1 | firewall | dc-east | Cisco | Firepower 2130 (ASA) | ASA 9.20(2) | 10.10.0.10 | critical | L3 Security
dc-fw2 | firewall | dc-east | Cisco | Firepower 2130 (ASA) | ASA 9.20(2) | 10.10.0.11 | critical | L3 Security
dc-srx-dmz | firewall | dc-east | Juniper | SRX4200 | Junos 23.4R2 | 10.10.0.12 | high | L3 Security
dc-lb1 | load-balancer | dc-east | F5 | BIG-IP i5800 | TMOS 17.1.1 | 10.10.0.20 | high | L3 Network | 2027-03-31
dc-vpn1 | vpn-concentrator | dc-east | Palo Alto Networks | PA-1410 | PAN-OS 11.1.4 | 10.10.0.30 | high | L3 Security | 2030-12-31
dc-esx-01 | hypervisor | dc-east | Dell | PowerEdge R760 | ESXi 8.0U3 | 10.10.5.11 | high | Server Team
dc-esx-02 | hypervisor | dc-east | Dell | PowerEdge R760 | ESXi 8.0U3 | 10.10.5.12 | high | Server Team
dc-esx-03 | hypervisor | dc-east | Dell | PowerEdge R760 | ESXi 8.0U3 | 10.10.5.13 | high | Server Team
dc-vcenter | virtual-machine | dc-east | VMware | vCenter Server Appliance | 8.0U3 | 10.10.5.10 | high | Server Team
dc-san-a | storage | dc-east | NetApp | AFF A250 | ONTAP 9.14.1 | 10.10.6.10 | critical | Storage Team
dc-backup-01 | backup-system | dc-east | Veeam | Backup & Replication | 12.2 | 10.10.6.20 | high | Storage Team
dc-syslog-01 | physical-server | dc-east | Dell | PowerEdge R660 | Debian 12 | 10.10.7.10 | medium | Server Team
dc-ad-01 | virtual-machine | dc-east | Microsoft | Virtual machine | Windows Server 2022 | 10.10.7.20 | critical | Server Team
dc-crypto-01 | crypto-device | dc-east | Thales | Luna Network HSM 7 | 7.8.4 | 10.10.8.10 | critical | L3 Security
ps-core-sw1 | switch | plant-south | Cisco | IE-9320 | IOS-XE 17.12.4 | 10.30.0.2 | critical | L3 Network
ps-core-sw2 | switch | plant-south | Cisco | IE-9320 | IOS-XE 17.12.4 | 10.30.0.3 | critical | L3 Network
ps-fw1 | firewall | plant-south | Fortinet | FortiGate 200F | FortiOS 7.4.4 | 10.30.0.10 | critical | L3 Security
ps-wan-rtr1 | router | plant-south | Cisco | ISR 4331 | IOS-XE 17.9.5 | 10.30.0.1 | critical | L3 Network | 2028-10-31
ps-plc-inlet | plc | plant-south | Schneider Electric | Modicon M580 | SV 4.10 | 10.30.10.11 | critical | OT Engineering
ps-plc-aeration | plc | plant-south | Schneider Electric | Modicon M580 | SV 4.10 | 10.30.10.12 | critical | OT Engineering
ps-rtu-outfall | rtu | plant-south | ABB | RTU560 | 13.4 | 10.30.11.20 | high | OT Engineering
ps-scada-01 | industrial-pc | plant-south | Schneider Electric | Harmony P6 | AVEVA Plant SCADA 2023 | 10.30.2.21 | critical | OT Engineering
ps-hmi-1 | hmi | plant-south | Schneider Electric | Harmony GTU | Vijeo Designer 6.3 | 10.30.3.41 | high | OT Engineering
wan-pn-mpls | wan-circuit | plant-north | BT | MPLS IP-VPN 100M | | | critical | L3 Network
wan-pn-lte | wan-circuit | plant-north | Vodafone | 4G LTE backup | | | high | L3 Network
wan-ps-mpls | wan-circuit | plant-south | BT | MPLS IP-VPN 50M | | | critical | L3 Network
wan-dc-mpls-a | wan-circuit | dc-east | BT | MPLS IP-VPN 1G | | | critical | L3 Network
wan-dc-mpls-b | wan-circuit | dc-east | Colt | MPLS IP-VPN 1G | | | critical | L3 Network
app-wincc-northfield | application | plant-north | Siemens | WinCC SCADA | 8.0 | | critical | OT Engineering
app-plant-scada-southmere | application | plant-south | AVEVA | Plant SCADA | 2023 | | critical | OT Engineering
app-historian | application | plant-north | AVEVA | PI Server | 2023 SP1 | | high | Server Team
app-active-directory | application | dc-east | Microsoft | Active Directory | 2022 | | critical | Server Team
app-remote-access | application | dc-east | Palo Alto Networks | GlobalProtect | 6.2 | | high | L3 Security
svc-northfield-treatment | business-service | | | | | | critical | OT Engineering
svc-southmere-treatment | business-service | | | | | | critical | OT Engineering
svc-operations-reporting | business-service | | | | | | medium | Server Team
svc-secure-vtc | business-service | | | | | | medium | Voice & VTC
svc-vendor-remote-access | technical-service | | | | | | high | L3 Security
svc-directory | technical-service | | | | | | critical | Server Team
svc-backup | technical-service | | | | | | high | Storage Team
svc-plant-wan | technical-service | | | | | | critical | L3 Network
";

/// `group NAME KIND SITE: MEMBER...`
const ESTATE_GROUPS: &str = "\
group pn-core-pair hsrp plant-north: pn-core-sw1 pn-core-sw2
group pn-fw-pair cluster plant-north: pn-fw1 pn-fw2
group pn-scada-pair cluster plant-north: pn-scada-01 pn-scada-02
group pn-wan-links dual-link plant-north: wan-pn-mpls wan-pn-lte
group ps-core-pair vrrp plant-south: ps-core-sw1 ps-core-sw2
group dc-core-pair virtual-chassis dc-east: dc-core-sw1 dc-core-sw2
group dc-edge-pair vrrp dc-east: dc-edge-rtr1 dc-edge-rtr2
group dc-fw-pair cluster dc-east: dc-fw1 dc-fw2
group dc-wan-links dual-link dc-east: wan-dc-mpls-a wan-dc-mpls-b
group dc-esx-cluster cluster dc-east: dc-esx-01 dc-esx-02 dc-esx-03
";

/// `FROM KIND TO`, where `[NAME]` is a redundancy group.
const ESTATE_RELATIONSHIPS: &str = "\
pn-cell-sw1 depends-on [pn-core-pair]
pn-cell-sw2 depends-on [pn-core-pair]
pn-cell-sw3 depends-on [pn-core-pair]
pn-plc-filtration depends-on pn-cell-sw1
pn-plc-dosing depends-on pn-cell-sw2
pn-plc-pumps depends-on pn-cell-sw3
pn-scada-01 depends-on [pn-core-pair]
pn-scada-02 depends-on [pn-core-pair]
pn-hmi-ops1 depends-on pn-cell-sw1
pn-historian depends-on [pn-core-pair]
pn-historian protected-by [pn-fw-pair]
pn-historian backed-up-by dc-backup-01
pn-fw1 depends-on pn-ups-1
pn-fw2 depends-on pn-ups-1
pn-core-sw1 depends-on pn-ups-1
pn-core-sw2 depends-on pn-ups-1
pn-wlc1 depends-on [pn-core-pair]
pn-vtc-control depends-on [pn-core-pair]
pn-vtc-control depends-on dc-crypto-01
pn-core-sw1 connected-to pn-core-sw2
pn-cell-sw1 managed-by pn-wlc1
app-wincc-northfield runs-on [pn-scada-pair]
app-wincc-northfield depends-on pn-plc-filtration
app-wincc-northfield depends-on pn-plc-dosing
app-wincc-northfield depends-on pn-plc-pumps
app-historian runs-on pn-historian
ps-plc-inlet depends-on [ps-core-pair]
ps-plc-aeration depends-on [ps-core-pair]
ps-rtu-outfall depends-on ps-wan-rtr1
ps-scada-01 depends-on [ps-core-pair]
ps-hmi-1 depends-on [ps-core-pair]
app-plant-scada-southmere runs-on ps-scada-01
app-plant-scada-southmere depends-on ps-plc-inlet
app-plant-scada-southmere depends-on ps-plc-aeration
app-plant-scada-southmere depends-on ps-rtu-outfall
dc-esx-01 depends-on [dc-core-pair]
dc-esx-02 depends-on [dc-core-pair]
dc-esx-03 depends-on [dc-core-pair]
dc-esx-01 depends-on dc-san-a
dc-esx-02 depends-on dc-san-a
dc-esx-03 depends-on dc-san-a
dc-esx-01 managed-by dc-vcenter
dc-esx-02 managed-by dc-vcenter
dc-esx-03 managed-by dc-vcenter
dc-vcenter runs-on [dc-esx-cluster]
dc-ad-01 runs-on [dc-esx-cluster]
dc-ad-01 backed-up-by dc-backup-01
dc-backup-01 depends-on [dc-core-pair]
dc-syslog-01 depends-on [dc-core-pair]
dc-vpn1 depends-on [dc-fw-pair]
dc-lb1 depends-on [dc-core-pair]
dc-crypto-01 depends-on [dc-core-pair]
app-active-directory runs-on dc-ad-01
app-remote-access runs-on dc-vpn1
app-remote-access depends-on app-active-directory
svc-plant-wan depends-on pn-wan-rtr1
svc-plant-wan depends-on ps-wan-rtr1
svc-plant-wan depends-on [dc-edge-pair]
svc-plant-wan depends-on [pn-wan-links]
svc-plant-wan depends-on wan-ps-mpls
svc-plant-wan depends-on [dc-wan-links]
svc-plant-wan protected-by [dc-fw-pair]
svc-plant-wan protected-by [pn-fw-pair]
svc-plant-wan protected-by ps-fw1
pn-wan-rtr1 connected-to wan-pn-mpls
ps-wan-rtr1 connected-to wan-ps-mpls
dc-edge-rtr1 connected-to wan-dc-mpls-a
dc-edge-rtr2 connected-to wan-dc-mpls-b
svc-northfield-treatment depends-on app-wincc-northfield
svc-northfield-treatment depends-on pn-hmi-ops1
svc-southmere-treatment depends-on app-plant-scada-southmere
svc-southmere-treatment depends-on ps-hmi-1
svc-operations-reporting depends-on app-historian
svc-operations-reporting depends-on svc-plant-wan
svc-operations-reporting depends-on svc-directory
svc-secure-vtc depends-on pn-vtc-control
svc-secure-vtc depends-on svc-plant-wan
svc-vendor-remote-access depends-on app-remote-access
svc-vendor-remote-access depends-on svc-plant-wan
svc-vendor-remote-access protected-by [pn-fw-pair]
svc-directory depends-on app-active-directory
svc-backup depends-on dc-backup-01
svc-backup depends-on dc-san-a
";

/// `slug | name | kind | support desk | e-mail | portal`, then its escalation ladder as
/// `  level | name | role | phone | e-mail` lines.
const ESTATE_VENDORS: &str = "\
cisco | Cisco Systems | oem | +44 800 404 7778 | tac@cisco.example | https://mycase.cloudapps.cisco.example
  1 | Cisco TAC | technical assistance centre | +44 800 404 7778 | tac@cisco.example
  2 | Priya Shah | customer success manager | +44 7700 900 101 | pshah@cisco.example
  3 | EMEA duty manager | severity 1 escalation | +44 20 8824 1000 |
palo-alto | Palo Alto Networks | oem | +44 808 234 7188 | support@paloalto.example | https://support.paloalto.example
  1 | Palo Alto support | premium support | +44 808 234 7188 | support@paloalto.example
  2 | Tom Reid | technical account manager | +44 7700 900 202 | treid@paloalto.example
siemens | Siemens Digital Industries | oem | +49 911 895 7222 | support.industry@siemens.example | https://sieportal.siemens.example
  1 | Siemens industry support | 24x7 hotline | +49 911 895 7222 | support.industry@siemens.example
  2 | Field service (Northfield) | on-site engineer | +44 7700 900 303 | fs-uk@siemens.example
juniper | Juniper Networks | oem | +44 20 7072 0820 | jtac@juniper.example | https://supportportal.juniper.example
  1 | JTAC | technical assistance centre | +44 20 7072 0820 | jtac@juniper.example
dell | Dell Technologies | oem | +44 344 373 0000 | prosupport@dell.example | https://dell.example/support
  1 | Dell ProSupport | 4-hour parts | +44 344 373 0000 | prosupport@dell.example
netapp | NetApp | oem | +44 800 026 0102 | support@netapp.example | https://mysupport.netapp.example
  1 | NetApp support | SupportEdge Advisor | +44 800 026 0102 | support@netapp.example
f5 | F5 | oem | +44 800 904 7003 | support@f5.example | https://my.f5.example
  1 | F5 support | premium | +44 800 904 7003 | support@f5.example
thales | Thales | oem | +44 1844 201 800 | hsm-support@thales.example | https://supportportal.thales.example
  1 | Thales HSM support | 24x7 | +44 1844 201 800 | hsm-support@thales.example
schneider | Schneider Electric | oem | +44 333 600 6000 | uk.support@se.example | https://se.example/support
  1 | Schneider Electric support | 8x5 | +44 333 600 6000 | uk.support@se.example
bt | BT Business | carrier | 0800 800 154 | fault@bt.example | https://business.bt.example/faults
  1 | BT fault desk | circuit faults | 0800 800 154 | fault@bt.example
  2 | BT service manager | major incidents | +44 7700 900 404 | sm-northfield@bt.example
colt | Colt Technology Services | carrier | +44 20 7863 5555 | noc@colt.example | https://portal.colt.example
  1 | Colt NOC | circuit faults | +44 20 7863 5555 | noc@colt.example
fortinet | Fortinet | oem | +44 20 3318 6900 | support@fortinet.example | https://support.fortinet.example
  1 | Fortinet TAC | technical assistance centre | +44 20 3318 6900 | support@fortinet.example
";

/// `vendor | reference | support level | starts | ends | item vendor`: a contract covers
/// every item of that vendor that needs one. Fortinet, Eaton, Rockwell, ABB and Vodafone
/// kit has none, Dell's has lapsed and Siemens' ends soon, so the risk view has work to show.
const ESTATE_CONTRACTS: &str = "\
cisco | CON-SNT-4471902 | 24x7x4 | 2024-04-01 | 2027-09-30 | Cisco
palo-alto | PAN-PREM-99812 | 24x7 premium | 2025-01-01 | 2027-12-31 | Palo Alto Networks
siemens | SSA-UK-20211 | 24x7 on-site 4h | 2022-02-01 | 2027-01-31 | Siemens
juniper | JNPR-CS-552107 | next business day | 2024-07-01 | 2027-06-30 | Juniper
dell | DELL-PS-7781 | ProSupport Plus 4h | 2021-10-01 | 2026-09-30 | Dell
netapp | NTAP-SE-1190 | 4h parts replacement | 2024-01-01 | 2028-12-31 | NetApp
f5 | F5-PREM-10221 | premium 24x7 | 2025-03-01 | 2028-02-29 | F5
thales | THL-HSM-221 | 24x7 | 2025-06-01 | 2028-05-31 | Thales
schneider | SE-ADV-4431 | 8x5 next business day | 2023-09-01 | 2028-08-31 | Schneider Electric
bt | BT-MPLS-000418 | 24x7 5h fix | 2023-05-01 | 2028-04-30 | BT
colt | COLT-IPVPN-3320 | 24x7 4h fix | 2024-02-01 | 2029-01-31 | Colt
";

/// `vendor | model prefix | recommended | minimum`.
const ESTATE_BASELINES: &str = "\
Cisco | IE- | IOS-XE 17.12.4 | IOS-XE 17.9.1
Cisco | ISR | IOS-XE 17.12.4 | IOS-XE 17.9.1
Cisco | C9800 | IOS-XE 17.12.3 |
Cisco | Nexus | NX-OS 10.4(3) | NX-OS 10.2(1)
Cisco | Firepower | ASA 9.20(3) | ASA 9.18(1)
Palo Alto Networks | | PAN-OS 11.1.6 | PAN-OS 10.2.0
Juniper | | Junos 23.4R2-S3 | Junos 22.4R1
Siemens | SCALANCE | V5.0 | V4.6
Fortinet | | FortiOS 7.4.4 | FortiOS 7.2.0
";

/// `class | name | kind | required | choices | description`: custom attributes.
const ESTATE_ATTRIBUTES: &str = "\
wan-circuit | carrier | text | yes | | The carrier that provides the circuit
wan-circuit | circuit_id | text | yes | | The carrier's circuit reference, quoted when raising a fault
link | bandwidth_mbps | integer | no | | Committed bandwidth in Mbit/s
network-device | tier | choice | no | core, distribution, access, edge | Where the device sits in the network design
ot-device | safety_instrumented | boolean | no | | Part of a safety instrumented system (IEC 61511)
crypto-device | accreditation_expires | date | no | | When the equipment's accreditation lapses
";

impl App {
    /// Seeds the demo estate once, on a database without sites. Returns whether it seeded.
    pub async fn seed_demo(&self) -> Result<bool> {
        if !self.store.site_slugs().await?.is_empty() {
            return Ok(false);
        }
        let actor = Actor::system();
        let now = self.now_ms();
        let hash = hash_password(DEMO_PASSWORD).await?;
        let mut tx = self.store.begin().await?;
        let mut sites = HashMap::new();
        for s in SITES {
            sites.insert(s.slug, tx.insert_site(s, now).await?);
        }
        let (vendors, covers, baselines) = seed_register(&mut tx, now).await?;
        let (items, groups, relationships) = seed_estate(&mut tx, &actor, &sites, &covers, now).await?;
        let contracts = covers.len();
        for &(username, display, role, sites, expires_days) in DEMO_USERS {
            if self.store.user_by_name(username).await?.is_some() {
                continue;
            }
            let expires = expires_days.map(|d| now + d * DAY_MS);
            let id = tx.insert_user(username, display, role, &hash, expires, now).await?;
            let sites: Vec<String> = sites.iter().map(|s| (*s).to_owned()).collect();
            tx.set_user_sites(id, &sites).await?;
            let groups: &[&str] = match username {
                "operator" => &["Service desk"],
                "engineer" => &["L2", "L3 network"],
                "ops-lead" => &["L3 network", "L3 security"],
                _ => &[],
            };
            tx.set_user_groups(id, &groups.iter().map(|g| (*g).to_owned()).collect::<Vec<_>>()).await?;
        }
        let after = json!({
            "sites": SITES.len(),
            "items": items,
            "redundancy_groups": groups,
            "relationships": relationships,
            "vendors": vendors,
            "contracts": contracts,
            "firmware_baselines": baselines,
            "users": DEMO_USERS.iter().map(|u| u.0).collect::<Vec<_>>(),
            "sla_policies": demo_sla_policies().into_iter().map(|p| p.name).collect::<Vec<_>>(),
        });
        for p in demo_sla_policies() {
            let targets = serde_json::to_string(&p.targets).unwrap_or_default();
            tx.put_sla_policy(&p.name, &p.description, &targets, now).await?;
        }
        tx.append_audit(event(&actor, now, "demo.seed", "estate", "demo", None, Some(after.to_string()))).await?;
        tx.commit().await?;
        self.seed_demo_configs(&actor).await?;
        Ok(true)
    }

    /// A desk at work, for a newcomer to `serve --demo`: a P2 being worked on the plant's
    /// core switch, a P3 waiting to be taken, a P4 on hold for a vendor. Not part of
    /// [`App::seed_demo`], which the tests share: their desks start empty.
    pub async fn seed_demo_desk(&self) -> Result<()> {
        let as_user =
            |name: &str, role: Role| Actor { name: name.into(), source: "demo".into(), role, ..Actor::system() };
        let (operator, engineer) = (as_user("operator", Role::Operator), as_user("engineer", Role::Engineer));
        let open =
            |short: &str, category: &str, item: &str, impact: &str, urgency: &str| crate::incidents::OpenIncident {
                short_description: short.into(),
                caller: "Control room, plant north".into(),
                category: category.into(),
                item: Some(item.into()),
                impact: impact.into(),
                urgency: urgency.into(),
                assignment_group: "Service desk".into(),
                ..Default::default()
            };
        use model::incident::{HoldReason, Move, State};
        let p2 = self
            .open_incident(
                &operator,
                open("Uplink between pn-core-sw1 and pn-core-sw2 flapping", "network", "pn-core-sw1", "high", "medium"),
            )
            .await?;
        self.assign_incident(&operator, &p2.row.number, "L3 Network", Some("engineer"), None).await?;
        self.move_incident(&engineer, &p2.row.number, State::InProgress, Move::default(), None).await?;
        self.add_note(&engineer, &p2.row.number, "CRC errors on Te1/1/1; optic swap scheduled with the plant", false)
            .await?;
        self.open_incident(
            &operator,
            open("Historian replication lagging by 20 minutes", "server", "pn-historian", "medium", "medium"),
        )
        .await?;
        let p4 = self
            .open_incident(
                &operator,
                open("Vendor remote-access VPN drops at 02:00", "security", "pn-fw1", "low", "medium"),
            )
            .await?;
        let hold = Move {
            hold_reason: Some(HoldReason::AwaitingVendor),
            comment: "Siemens asked to confirm their IKE lifetime".into(),
            ..Move::default()
        };
        self.move_incident(&engineer, &p4.row.number, State::OnHold, hold, None).await?;
        self.seed_demo_oncall().await
    }

    /// The desk's on-call and escalation, for `serve --demo`: a weekly L3 rotation, a chain
    /// paging whoever is on call and then the operations lead, P1s paging it when opened,
    /// and P1/P2s handed to L3 when nobody responds in time.
    async fn seed_demo_oncall(&self) -> Result<()> {
        use model::escalation::{EscalationKind, EscalationRule, Trigger};
        use model::oncall::{ChainSpec, LayerSpec, ScheduleSpec, StepSpec};
        let system = Actor::system();
        let layer = LayerSpec {
            name: "weekly".into(),
            members: vec!["engineer".into(), "ops-lead".into()],
            start: "2026-01-05T09:00".into(),
            shift: "1w".into(),
            hours: None,
        };
        let schedule = ScheduleSpec {
            name: "L3 network".into(),
            time_zone: "Europe/London".into(),
            layers: vec![layer],
            overrides: vec![],
        };
        self.put_schedule(&system, schedule).await?;
        let step = |after_minutes, target: &str| StepSpec { after_minutes, targets: vec![target.into()] };
        let chain = ChainSpec {
            name: "network".into(),
            steps: vec![step(0, "oncall:L3 network"), step(15, "user:ops-lead")],
            repeats: 1,
        };
        self.put_chain(&system, chain).await?;
        let rule = |name: &str, kind, trigger, priorities: &[u8], group: &str, page: Option<&str>| EscalationRule {
            name: name.into(),
            kind,
            trigger,
            priorities: priorities.to_vec(),
            reassign_group: group.into(),
            channels: Vec::new(),
            page: page.map(Into::into),
            enabled: true,
        };
        self.put_escalation_rule(
            &system,
            rule("p1-page", EscalationKind::Hierarchical, Trigger::Opened, &[1], "", Some("network")),
        )
        .await?;
        let breach = Trigger::Sla { clock: "response".into(), percent: 100 };
        self.put_escalation_rule(
            &system,
            rule("response-breach-to-l3", EscalationKind::Functional, breach, &[1, 2], "L3 network", None),
        )
        .await?;
        Ok(())
    }

    /// Device configurations in the archive: the plant's WAN router before and after a
    /// vendor's late-night change (RDP opened from anywhere, the PLC network let out), and
    /// the datacentre firewall with a redundant rule and telnet allowed.
    async fn seed_demo_configs(&self, actor: &Actor) -> Result<()> {
        let configs: [(&str, &str, &str, &str); 3] = [
            ("pn-wan-rtr1", "pn-wan-rtr1.cfg", "baseline after the 2026 audit", DEMO_RTR_V1),
            ("pn-wan-rtr1", "pn-wan-rtr1.cfg", "vendor remote support, no change record", DEMO_RTR_V2),
            ("dc-fw1", "dc-fw1.cfg", "nightly collection", DEMO_FW),
        ];
        for (item, file, note, text) in configs {
            let id = self.resolve_item(actor, item).await?.id;
            let upload = crate::configs::Upload {
                file_name: file.to_owned(),
                bytes: text.as_bytes().to_vec(),
                vendor: None,
                source: "demo",
                note: note.to_owned(),
            };
            self.store_config(actor, id, upload).await?;
        }
        Ok(())
    }
}

fn bad_line(what: &str, n: usize, line: &str, why: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("demo estate, {what} line {}: `{line}`: {why}", n + 1))
}

/// Inserts the estate's items (each with its first version), groups and relationships.
/// Returns how many of each.
async fn seed_estate(
    tx: &mut store::Tx,
    actor: &Actor,
    sites: &HashMap<&str, i64>,
    covers: &HashMap<&str, i64>,
    now: i64,
) -> Result<(usize, usize, usize)> {
    let mut ids: HashMap<&str, i64> = HashMap::new();
    for (n, line) in ESTATE_ITEMS.lines().enumerate() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let get = |i: usize| f.get(i).copied().unwrap_or_default();
        let opt = |i: usize| Some(get(i)).filter(|v| !v.is_empty()).map(str::to_owned);
        let (name, class, site) = (get(0), get(1), get(2));
        let is_service = model::cmdb::is_a(class, "service");
        let mut attrs = serde_json::Map::new();
        if class == "wan-circuit" {
            attrs.insert("carrier".into(), get(3).into());
            attrs
                .insert("circuit_id".into(), format!("{}-{:06}", get(3).to_uppercase(), hash(name) % 1_000_000).into());
        }
        if model::cmdb::is_a(class, "network-device") {
            let tier = match name {
                n if n.contains("core") => "core",
                n if n.contains("cell") => "access",
                n if n.contains("wan") || n.contains("edge") || n.contains("fw") || n.contains("vpn") => "edge",
                _ => "distribution",
            };
            attrs.insert("tier".into(), tier.into());
        }
        let hardware = !is_service && !matches!(class, "application" | "wan-circuit");
        let fields = ItemFields {
            name: name.to_owned(),
            class: class.to_owned(),
            vendor: get(3).to_owned(),
            model: get(4).to_owned(),
            os_version: get(5).to_owned(),
            serial: if hardware { format!("DEMO{:08X}", hash(name)) } else { String::new() },
            mgmt_address: get(6).to_owned(),
            status: "operational".into(),
            criticality: get(7).to_owned(),
            support_group: get(8).to_owned(),
            // Two items without an owner, so the risk view has something to show.
            owner: if matches!(name, "pn-vtc-control" | "dc-syslog-01") { String::new() } else { get(8).to_owned() },
            sla_policy: match (is_service, get(7)) {
                (false, _) => String::new(),
                (true, "critical") => "24x7-critical".into(),
                (true, _) => "business-hours".into(),
            },
            end_of_support_on: opt(9),
            attrs,
            ..ItemFields::default()
        };
        fields.validate().map_err(|e| bad_line("items", n, line, e))?;
        let site_id = match site {
            "" => None,
            s => Some(*sites.get(s).ok_or_else(|| bad_line("items", n, line, "unknown site"))?),
        };
        let id = tx
            .insert_item(
                ItemWrite {
                    fields: &fields,
                    site_id,
                    parent_id: None,
                    contract_id: covers.get(fields.vendor.as_str()).copied().filter(|_| needs_contract(class)),
                    source: "demo",
                },
                now,
            )
            .await?;
        let row = tx.item_in_tx(id).await?.ok_or_else(|| bad_line("items", n, line, "not stored"))?;
        tx.record_item_version(&store::ItemVersion {
            item_id: id,
            version: 1,
            at_ms: now,
            actor: actor.name.clone(),
            change: "create".into(),
            snapshot: crate::cmdb::item_document(&row).to_string(),
        })
        .await?;
        ids.insert(name, id);
    }
    let item = |name: &str, what: &str, n: usize, line: &str| {
        ids.get(name).copied().ok_or_else(|| bad_line(what, n, line, format!("no item `{name}`")))
    };
    let mut group_ids: HashMap<&str, i64> = HashMap::new();
    for (n, line) in ESTATE_GROUPS.lines().enumerate() {
        let (head, members) = line.split_once(':').ok_or_else(|| bad_line("groups", n, line, "no `:`"))?;
        let [_, name, kind, site] = head.split_whitespace().collect::<Vec<_>>()[..] else {
            return Err(bad_line("groups", n, line, "expected `group NAME KIND SITE:`"));
        };
        let id = tx.insert_group(name, kind, sites.get(site).copied(), "demo", now).await?;
        for m in members.split_whitespace() {
            tx.add_group_member(id, item(m, "groups", n, line)?).await?;
        }
        group_ids.insert(name, id);
    }
    for (n, line) in ESTATE_RELATIONSHIPS.lines().enumerate() {
        let [from, kind, to] = line.split_whitespace().collect::<Vec<_>>()[..] else {
            return Err(bad_line("relationships", n, line, "expected `FROM KIND TO`"));
        };
        let kind: RelationKind = kind.parse().map_err(|e| bad_line("relationships", n, line, e))?;
        let target = match to.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(g) => Target::Group(*group_ids.get(g).ok_or_else(|| bad_line("relationships", n, line, "no group"))?),
            None => Target::Item(item(to, "relationships", n, line)?),
        };
        tx.insert_relationship(item(from, "relationships", n, line)?, kind.as_str(), target, "demo", now).await?;
    }
    tx.record_relationships_added_at(now, &actor.name).await?;
    tx.bump_cmdb_generation().await?;
    Ok((ids.len(), group_ids.len(), ESTATE_RELATIONSHIPS.lines().count()))
}

/// Inserts the vendor register: vendors with their ladders, contracts and firmware
/// baselines. Returns how many vendors and baselines, and which contract covers each item
/// vendor's kit.
async fn seed_register(tx: &mut store::Tx, now: i64) -> Result<(usize, HashMap<&'static str, i64>, usize)> {
    use model::supplier::{Contact, ContractFields, VendorFields};
    let mut vendors: Vec<VendorFields> = Vec::new();
    for (n, line) in ESTATE_VENDORS.lines().enumerate() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let get = |i: usize| f.get(i).copied().unwrap_or_default().to_owned();
        if line.starts_with(' ') {
            let v = vendors.last_mut().ok_or_else(|| bad_line("vendors", n, line, "a contact before any vendor"))?;
            let level = get(0).parse().map_err(|e| bad_line("vendors", n, line, e))?;
            v.contacts.push(Contact { level, name: get(1), role: get(2), phone: get(3), email: get(4) });
        } else {
            vendors.push(VendorFields {
                slug: get(0),
                name: get(1),
                kind: get(2),
                phone: get(3),
                email: get(4),
                portal: get(5),
                escalation: "Quote the contract reference and the item's serial number. Severity 1: phone, \
                    never e-mail; go to the next level after 2 hours without an engineer assigned."
                    .into(),
                contacts: Vec::new(),
            });
        }
    }
    let mut vendor_ids = HashMap::new();
    for v in &vendors {
        v.validate().map_err(|e| AppError::Internal(format!("demo vendor {}: {e}", v.slug)))?;
        vendor_ids.insert(v.slug.clone(), tx.insert_vendor(v, now).await?);
    }
    let mut covers = HashMap::new();
    for (n, line) in ESTATE_CONTRACTS.lines().enumerate() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [vendor, reference, level, starts, ends, item_vendor] = f[..] else {
            return Err(bad_line("contracts", n, line, "expected six fields"));
        };
        let c = ContractFields {
            reference: reference.into(),
            support_level: level.into(),
            starts_on: Some(starts.into()),
            ends_on: Some(ends.into()),
            contact: String::new(),
            escalation: String::new(),
        };
        c.validate().map_err(|e| bad_line("contracts", n, line, e))?;
        let vendor_id = *vendor_ids.get(vendor).ok_or_else(|| bad_line("contracts", n, line, "no such vendor"))?;
        covers.insert(item_vendor, tx.insert_contract(vendor_id, &c, now).await?);
    }
    for (n, line) in ESTATE_BASELINES.lines().enumerate() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [vendor, model, recommended, minimum] = f[..] else {
            return Err(bad_line("baselines", n, line, "expected four fields"));
        };
        let b = model::firmware::Baseline {
            vendor: vendor.into(),
            model: model.into(),
            recommended: recommended.into(),
            minimum: Some(minimum.to_owned()).filter(|m| !m.is_empty()),
        };
        b.validate().map_err(|e| bad_line("baselines", n, line, e))?;
        tx.insert_baseline(&b, now).await?;
    }
    for (n, line) in ESTATE_ATTRIBUTES.lines().enumerate() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [class, name, kind, required, choices, description] = f[..] else {
            return Err(bad_line("attributes", n, line, "expected six fields"));
        };
        let def = model::attributes::AttributeDef {
            class: class.into(),
            name: name.into(),
            kind: kind.into(),
            required: required == "yes",
            choices: choices.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            description: description.into(),
        };
        def.validate().map_err(|e| bad_line("attributes", n, line, e))?;
        tx.insert_attribute_def(&def, now).await?;
    }
    Ok((vendors.len(), covers, ESTATE_BASELINES.lines().count()))
}

fn hash(s: &str) -> u32 {
    s.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
}

/// The demo accounts, for the login page.
pub fn demo_accounts() -> impl Iterator<Item = (&'static str, Role)> {
    DEMO_USERS.iter().map(|u| (u.0, u.2))
}

/// The SLA policies the demo services name: critical services run every priority round the
/// clock on tighter targets; the others keep P1 round the clock and the rest on office hours.
fn demo_sla_policies() -> Vec<model::sla::SlaPolicy> {
    use model::sla::{ROUND_THE_CLOCK, SlaPolicy, SlaTarget};
    const M: i64 = 60_000;
    const H: i64 = 60 * M;
    let t = |priority, response_ms, resolution_ms, calendar: &str| SlaTarget {
        priority,
        response_ms,
        resolution_ms,
        calendar: calendar.into(),
    };
    vec![
        SlaPolicy {
            name: "24x7-critical".into(),
            description: "Critical services: every priority round the clock".into(),
            targets: vec![
                t(1, 10 * M, 2 * H, ROUND_THE_CLOCK),
                t(2, 15 * M, 4 * H, ROUND_THE_CLOCK),
                t(3, H, 8 * H, ROUND_THE_CLOCK),
                t(4, 4 * H, 24 * H, ROUND_THE_CLOCK),
            ],
        },
        SlaPolicy {
            name: "business-hours".into(),
            description: "Other services: P1 round the clock, the rest on office hours".into(),
            targets: vec![
                t(1, 15 * M, 4 * H, ROUND_THE_CLOCK),
                t(2, H, 8 * H, "office"),
                t(3, 4 * H, 24 * H, "office"),
                t(4, 8 * H, 40 * H, "office"),
            ],
        },
    ]
}
