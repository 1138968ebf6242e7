#!/usr/bin/env python3
"""Generate NetBox 3.7 and 4.1 shaped list-response fixtures for one estate.

Shapes follow the serializer sources listed in the README next to the output.
Run from this directory: python3 generate_fixtures.py .
"""
import json
import os
import sys

BASE = "http://netbox.example.net"


def api(path, pk):
    return f"{BASE}/api/{path}/{pk}/"


def ui(path, pk):
    return f"{BASE}/{path}/{pk}/"


def ch(value, label):
    return {"value": value, "label": label}


ACTIVE = ch("active", "Active")
IPV4 = ch(4, "IPv4")

# --------------------------------------------------------------------------- estate

TENANTS = {1: dict(name="Northshire Water", slug="northshire-water", description="")}
TAGS = {
    1: dict(name="ot-network", slug="ot-network", color="ff9800"),
    2: dict(name="safety-critical", slug="safety-critical", color="f44336"),
}
SITES = {
    1: dict(
        name="Plant West", slug="plant-west", tenant=1, facility="PW-WTW",
        time_zone="Europe/London",
        description="Westbury water treatment works",
        physical_address="Riverside Road\nWestbury\nWB1 2AA\nUnited Kingdom",
        shipping_address="Goods In, Riverside Road\nWestbury\nWB1 2AA\nUnited Kingdom",
        latitude=51.4545, longitude=-2.5879,
        comments="Purdue L2 control network. Changes via OT change board only.",
        tags=[1],
        custom_fields={"criticality": "critical", "purdue_level": 2},
        created="2023-09-04T08:12:31.402117Z", last_updated="2024-11-18T14:03:55.918204Z",
        circuit_count=2, device_count=6, prefix_count=3, rack_count=0, virtualmachine_count=0, vlan_count=3,
    ),
    2: dict(
        name="DC North", slug="dc-north", tenant=1, facility="DCN-H1",
        time_zone="Europe/London",
        description="Northgate data centre, hall 1",
        physical_address="Unit 4, Northgate Business Park\nNorthgate\nNG7 3XY\nUnited Kingdom",
        shipping_address="",
        latitude=53.8008, longitude=-1.5491,
        comments="",
        tags=[],
        custom_fields={"criticality": "high", "purdue_level": 4},
        created="2023-09-04T08:14:02.771580Z", last_updated="2024-06-27T09:41:12.005310Z",
        circuit_count=1, device_count=2, prefix_count=1, rack_count=1, virtualmachine_count=0, vlan_count=1,
    ),
}
MANUFACTURERS = {
    1: dict(name="Cisco", slug="cisco"),
    2: dict(name="Palo Alto Networks", slug="palo-alto-networks"),
    3: dict(name="Siemens", slug="siemens"),
    4: dict(name="Arista", slug="arista"),
}
DEVICE_TYPES = {
    1: dict(manufacturer=1, model="C9300-48P", slug="cisco-c9300-48p"),
    2: dict(manufacturer=1, model="ISR4331", slug="cisco-isr4331"),
    3: dict(manufacturer=2, model="PA-3410", slug="palo-alto-pa-3410"),
    4: dict(manufacturer=3, model="SIMATIC S7-1500 CPU 1516-3 PN/DP", slug="siemens-s7-1500-cpu-1516-3-pn-dp"),
    5: dict(manufacturer=4, model="DCS-7050SX3-48YC8", slug="arista-dcs-7050sx3-48yc8"),
}
DEVICE_ROLES = {
    1: dict(name="Core Switch", slug="core-switch"),
    2: dict(name="Router", slug="router"),
    3: dict(name="Firewall", slug="firewall"),
    4: dict(name="PLC", slug="plc"),
    5: dict(name="DC Switch", slug="dc-switch"),
}
PLATFORMS = {
    1: dict(name="Cisco IOS-XE", slug="cisco-ios-xe"),
    2: dict(name="PAN-OS", slug="pan-os"),
    3: dict(name="Arista EOS", slug="arista-eos"),
}
RACKS = {1: dict(name="DCN-R01")}
VCS = {1: dict(name="pw-core-vc", master=1)}

DEVICES = {
    1: dict(name="pw-core-sw01", device_type=1, role=1, tenant=1, platform=1, serial="FOC2418L0AB",
            asset_tag="NWC-000101", site=1, rack=None, position=None, face=None, primary_ip4=1,
            vc=1, vc_position=1, vc_priority=15, description="Plant West core stack member 1",
            tags=[1], created="2023-09-05T10:20:11.118402Z", last_updated="2024-11-18T14:10:02.331876Z"),
    2: dict(name="pw-core-sw02", device_type=1, role=1, tenant=1, platform=1, serial="FOC2418L0AC",
            asset_tag="NWC-000102", site=1, rack=None, position=None, face=None, primary_ip4=None,
            vc=1, vc_position=2, vc_priority=14, description="Plant West core stack member 2",
            tags=[1], created="2023-09-05T10:21:40.907115Z", last_updated="2024-11-18T14:10:02.352417Z"),
    3: dict(name="pw-rtr01", device_type=2, role=2, tenant=1, platform=1, serial="FDO21450C1Z",
            asset_tag="NWC-000201", site=1, rack=None, position=None, face=None, primary_ip4=2,
            vc=None, vc_position=None, vc_priority=None, description="Plant West WAN router A (HSRP active)",
            tags=[], created="2023-09-05T10:30:02.441950Z", last_updated="2024-05-02T16:45:19.220361Z"),
    4: dict(name="pw-rtr02", device_type=2, role=2, tenant=1, platform=1, serial="FDO21450C2A",
            asset_tag="NWC-000202", site=1, rack=None, position=None, face=None, primary_ip4=3,
            vc=None, vc_position=None, vc_priority=None, description="Plant West WAN router B (HSRP standby)",
            tags=[], created="2023-09-05T10:31:27.009833Z", last_updated="2024-05-02T16:45:19.487112Z"),
    5: dict(name="pw-fw01", device_type=3, role=3, tenant=1, platform=2, serial="024101001234",
            asset_tag="NWC-000301", site=1, rack=None, position=None, face=None, primary_ip4=4,
            vc=None, vc_position=None, vc_priority=None, description="IT/OT boundary firewall",
            tags=[1], created="2023-09-06T09:02:48.675001Z", last_updated="2024-09-30T11:27:04.118733Z"),
    6: dict(name="pw-plc01", device_type=4, role=4, tenant=1, platform=None, serial="S C-H6N512348",
            asset_tag="NWC-000401", site=1, rack=None, position=None, face=None, primary_ip4=5,
            vc=None, vc_position=None, vc_priority=None, description="Filter gallery PLC (chlorine dosing)",
            tags=[1, 2], created="2023-09-06T13:55:10.301126Z", last_updated="2024-02-14T08:19:33.874560Z"),
    7: dict(name="dcn-sw01", device_type=5, role=5, tenant=None, platform=3, serial="JPE21290123",
            asset_tag=None, site=2, rack=1, position=40.0, face="front", primary_ip4=6,
            vc=None, vc_position=None, vc_priority=None, description="DC North leaf A",
            tags=[], created="2023-10-11T15:04:22.515208Z", last_updated="2024-06-27T09:44:51.702934Z"),
    8: dict(name="dcn-sw02", device_type=5, role=5, tenant=None, platform=3, serial="JPE21290124",
            asset_tag=None, site=2, rack=1, position=39.0, face="front", primary_ip4=7,
            vc=None, vc_position=None, vc_priority=None, description="DC North leaf B",
            tags=[], created="2023-10-11T15:05:37.118290Z", last_updated="2024-06-27T09:44:51.731560Z"),
}

VRFS = {1: dict(name="OT", rd="65010:100", description="")}
IPAM_ROLES = {
    1: dict(name="Management", slug="management", description=""),
    2: dict(name="OT Control", slug="ot-control", description=""),
    3: dict(name="Transit", slug="transit", description=""),
}
VLANS = {
    1: dict(site=1, vid=10, name="PW-TRANSIT", tenant=1, status="active", role=3,
            description="Router/firewall transit, HSRP 10", prefix_count=1,
            created="2023-09-05T09:40:00.118734Z", last_updated="2023-09-05T09:40:00.118751Z"),
    2: dict(site=1, vid=99, name="PW-MGMT", tenant=1, status="active", role=1,
            description="Out-of-band management", prefix_count=1,
            created="2023-09-05T09:41:12.550019Z", last_updated="2023-09-05T09:41:12.550036Z"),
    3: dict(site=1, vid=100, name="OT-CONTROL", tenant=1, status="active", role=2,
            description="Level 1/2 control network (PLCs, HMIs)", prefix_count=1,
            created="2023-09-05T09:42:37.003448Z", last_updated="2024-02-14T08:17:20.660901Z"),
    4: dict(site=2, vid=399, name="DCN-MGMT", tenant=None, status="active", role=1,
            description="DC North management", prefix_count=1,
            created="2023-10-11T14:58:02.440712Z", last_updated="2023-10-11T14:58:02.440729Z"),
}
PREFIXES = {
    1: dict(prefix="10.20.10.0/24", site=1, vrf=None, tenant=1, vlan=1, status="active", role=3,
            description="Plant West transit / HSRP",
            created="2023-09-05T09:45:18.240016Z", last_updated="2023-09-05T09:45:18.240033Z"),
    2: dict(prefix="10.20.99.0/24", site=1, vrf=None, tenant=1, vlan=2, status="active", role=1,
            description="Plant West management",
            created="2023-09-05T09:46:02.781903Z", last_updated="2023-09-05T09:46:02.781921Z"),
    3: dict(prefix="10.20.100.0/24", site=1, vrf=1, tenant=1, vlan=3, status="active", role=2,
            description="OT control (Purdue L1/L2)",
            created="2023-09-05T09:47:44.009310Z", last_updated="2024-02-14T08:18:01.392045Z"),
    4: dict(prefix="10.30.99.0/24", site=2, vrf=None, tenant=None, vlan=4, status="active", role=1,
            description="DC North management",
            created="2023-10-11T14:59:30.627744Z", last_updated="2023-10-11T14:59:30.627760Z"),
}

# Interfaces. type: (value, label). speed in Kbps.
T_1GT = ("1000base-t", "1000BASE-T (1GE)")
T_100TX = ("100base-tx", "100BASE-TX (10/100ME)")
T_QSFP28 = ("100gbase-x-qsfp28", "QSFP28 (100GE)")
T_LAG = ("lag", "Link Aggregation Group (LAG)")

INTERFACES = {
    1: dict(device=1, name="GigabitEthernet0/0", type=T_1GT, mgmt_only=True, mac="70:0F:6A:11:22:01",
            speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
            description="OOB management", cable=None),
    2: dict(device=1, name="Port-channel1", type=T_LAG, mgmt_only=False, mac="70:0F:6A:11:22:40",
            speed=None, duplex=None, mode="tagged", untagged=None, tagged=[1, 3], lag=None, mtu=None,
            description="Trunk to pw-fw01 ae1", cable=None),
    3: dict(device=1, name="GigabitEthernet1/0/1", type=T_1GT, mgmt_only=False, mac="70:0F:6A:11:22:81",
            speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=2, mtu=None,
            description="pw-fw01 ethernet1/1", cable=1),
    4: dict(device=1, name="GigabitEthernet1/0/47", type=T_1GT, mgmt_only=False, mac="70:0F:6A:11:22:AF",
            speed=1000000, duplex="full", mode="access", untagged=1, tagged=[], lag=None, mtu=None,
            description="pw-rtr01 Gi0/0/1", cable=4),
    5: dict(device=1, name="GigabitEthernet1/0/48", type=T_1GT, mgmt_only=False, mac="70:0F:6A:11:22:B0",
            speed=100000, duplex="full", mode="access", untagged=3, tagged=[], lag=None, mtu=None,
            description="pw-plc01 X1 P1", cable=3),
    6: dict(device=2, name="GigabitEthernet2/0/1", type=T_1GT, mgmt_only=False, mac="70:0F:6A:11:33:81",
            speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=2, mtu=None,
            description="pw-fw01 ethernet1/2", cable=2),
    7: dict(device=3, name="GigabitEthernet0/0/0", type=T_1GT, mgmt_only=False, mac="00:A3:8E:4C:10:A0",
            speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
            description="WAN: BT IP VPN BTIPVPN-4410-0001", cable=None),
    8: dict(device=3, name="GigabitEthernet0/0/1", type=T_1GT, mgmt_only=False, mac="00:A3:8E:4C:10:A1",
            speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
            description="LAN: pw-core-sw01 Gi1/0/47", cable=4),
    9: dict(device=4, name="GigabitEthernet0/0/0", type=T_1GT, mgmt_only=False, mac="00:A3:8E:4C:22:B0",
            speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
            description="WAN: BT IP VPN BTIPVPN-4410-0002", cable=None),
    10: dict(device=4, name="GigabitEthernet0/0/1", type=T_1GT, mgmt_only=False, mac="00:A3:8E:4C:22:B1",
             speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="LAN: pw-core-sw02 Gi2/0/47 (cable not yet recorded)", cable=None),
    11: dict(device=5, name="ethernet1/1", type=T_1GT, mgmt_only=False, mac="D4:1D:71:9A:00:10",
             speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="ae1 member: pw-core-sw01 Gi1/0/1", cable=1),
    12: dict(device=5, name="ethernet1/2", type=T_1GT, mgmt_only=False, mac="D4:1D:71:9A:00:11",
             speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="ae1 member: pw-core-sw02 Gi2/0/1", cable=2),
    13: dict(device=5, name="mgmt", type=T_1GT, mgmt_only=True, mac="D4:1D:71:9A:00:00",
             speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="", cable=None),
    14: dict(device=6, name="X1 P1", type=T_100TX, mgmt_only=False, mac="28:63:36:5C:0A:11",
             speed=100000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="PROFINET port 1", cable=3),
    15: dict(device=7, name="Ethernet49/1", type=T_QSFP28, mgmt_only=False, mac="44:4C:A8:F0:31:31",
             speed=100000000, duplex=None, mode=None, untagged=None, tagged=[], lag=None, mtu=9214,
             description="Peer link to dcn-sw02", cable=5),
    16: dict(device=7, name="Management1", type=T_1GT, mgmt_only=True, mac="44:4C:A8:F0:31:00",
             speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="", cable=None),
    17: dict(device=8, name="Ethernet49/1", type=T_QSFP28, mgmt_only=False, mac="44:4C:A8:F0:42:31",
             speed=100000000, duplex=None, mode=None, untagged=None, tagged=[], lag=None, mtu=9214,
             description="Peer link to dcn-sw01", cable=5),
    18: dict(device=8, name="Management1", type=T_1GT, mgmt_only=True, mac="44:4C:A8:F0:42:00",
             speed=1000000, duplex="full", mode=None, untagged=None, tagged=[], lag=None, mtu=None,
             description="", cable=None),
}
MODES = {"access": "Access", "tagged": "Tagged", "tagged-all": "Tagged (All)"}

# Cables: A side interface, B side interface.
CABLES = {
    1: dict(a=3, b=11, type="cat6", label="PW-C0001", length=None, length_unit=None, color="0000ff",
            description="Core stack 1 to firewall", created="2023-09-06T09:30:15.407729Z",
            last_updated="2023-09-06T09:30:15.407746Z"),
    2: dict(a=6, b=12, type="cat6", label="PW-C0002", length=None, length_unit=None, color="0000ff",
            description="Core stack 2 to firewall", created="2023-09-06T09:31:02.116378Z",
            last_updated="2023-09-06T09:31:02.116395Z"),
    3: dict(a=5, b=14, type="cat6", label="PW-C0003", length=15.0, length_unit=("m", "Meters"),
            color="ffeb3b", description="Core to filter gallery PLC", created="2023-09-06T14:02:41.820955Z",
            last_updated="2024-02-14T08:20:09.004517Z"),
    4: dict(a=4, b=8, type="cat6", label="PW-C0004", length=None, length_unit=None, color="",
            description="", created="2023-09-06T09:33:47.652190Z",
            last_updated="2023-09-06T09:33:47.652207Z"),
    5: dict(a=15, b=17, type="dac-passive", label="", length=1.0, length_unit=("m", "Meters"), color="",
            description="MLAG peer link", created="2023-10-11T15:20:33.947051Z",
            last_updated="2023-10-11T15:20:33.947068Z"),
}

IPS = {
    1: dict(address="10.20.99.11/24", vrf=None, obj=("dcim.interface", 1), role=None,
            dns_name="pw-core-sw01.mgmt.plant-west.northshire-water.example", description="",
            created="2023-09-05T10:40:12.030519Z", last_updated="2023-09-05T10:41:55.187633Z"),
    2: dict(address="10.20.10.2/24", vrf=None, obj=("dcim.interface", 8), role=None,
            dns_name="pw-rtr01.plant-west.northshire-water.example", description="",
            created="2023-09-05T10:42:30.771904Z", last_updated="2023-09-05T10:42:58.330571Z"),
    3: dict(address="10.20.10.3/24", vrf=None, obj=("dcim.interface", 10), role=None,
            dns_name="pw-rtr02.plant-west.northshire-water.example", description="",
            created="2023-09-05T10:43:41.118064Z", last_updated="2023-09-05T10:44:07.290413Z"),
    4: dict(address="10.20.99.21/24", vrf=None, obj=("dcim.interface", 13), role=None,
            dns_name="pw-fw01.mgmt.plant-west.northshire-water.example", description="",
            created="2023-09-06T09:05:20.447301Z", last_updated="2023-09-06T09:06:01.901255Z"),
    5: dict(address="10.20.100.10/24", vrf=1, obj=("dcim.interface", 14), role=None,
            dns_name="", description="Filter gallery PLC",
            created="2023-09-06T14:00:05.661287Z", last_updated="2024-02-14T08:19:02.513880Z"),
    6: dict(address="10.30.99.11/24", vrf=None, obj=("dcim.interface", 16), role=None,
            dns_name="dcn-sw01.mgmt.dc-north.northshire-water.example", description="",
            created="2023-10-11T15:10:45.209934Z", last_updated="2023-10-11T15:11:20.844177Z"),
    7: dict(address="10.30.99.12/24", vrf=None, obj=("dcim.interface", 18), role=None,
            dns_name="dcn-sw02.mgmt.dc-north.northshire-water.example", description="",
            created="2023-10-11T15:12:02.335108Z", last_updated="2023-10-11T15:12:31.470592Z"),
    8: dict(address="10.255.41.2/30", vrf=None, obj=("dcim.interface", 7), role=None,
            dns_name="", description="BT IP VPN PE-CE link (CE side)",
            created="2023-09-05T10:45:10.905561Z", last_updated="2023-09-05T10:45:10.905578Z"),
    9: dict(address="10.20.10.1/24", vrf=None, obj=("ipam.fhrpgroup", 1), role=("hsrp", "HSRP"),
            dns_name="gw.plant-west.northshire-water.example", description="HSRP 10 virtual IP",
            created="2023-09-05T11:02:19.018236Z", last_updated="2023-09-05T11:02:19.018253Z"),
}

FHRP_GROUPS = {
    1: dict(name="PW-GW", protocol="hsrp", group_id=10, auth_type="md5", auth_key="hsrp10-example-key",
            description="Plant West default gateway", ips=[9],
            created="2023-09-05T11:01:40.662093Z", last_updated="2023-09-05T11:01:40.662110Z"),
}
FHRP_PROTOCOL_LABEL = {"hsrp": "HSRP"}
FHRP_ASSIGNMENTS = {
    1: dict(group=1, interface=8, priority=110,
            created="2023-09-05T11:03:05.330478Z", last_updated="2023-09-05T11:03:05.330495Z"),
    2: dict(group=1, interface=10, priority=100,
            created="2023-09-05T11:03:29.771862Z", last_updated="2023-09-05T11:03:29.771879Z"),
}

PROVIDERS = {1: dict(name="BT", slug="bt", description="")}
CIRCUIT_TYPES = {1: dict(name="MPLS", slug="mpls", description="")}
# Circuit terminations: id -> (circuit, side, site, port_speed, upstream_speed, xconnect, description)
CTS = {
    1: dict(circuit=1, side="A", site=1, port_speed=100000, upstream_speed=100000,
            xconnect_id="PW-MMR-01/P12", description="Plant West MMR, NTE rack 1"),
    2: dict(circuit=1, side="Z", site=2, port_speed=1000000, upstream_speed=1000000,
            xconnect_id="DCN-MMR-02/P04", description="DC North meet-me room"),
    3: dict(circuit=2, side="A", site=1, port_speed=50000, upstream_speed=50000,
            xconnect_id="PW-MMR-01/P13", description="Plant West MMR, NTE rack 2"),
}
CIRCUITS = {
    1: dict(cid="BTIPVPN-4410-0001", provider=1, type=1, status="active", tenant=1,
            install_date="2022-06-01", termination_date=None, commit_rate=100000,
            description="Plant West primary WAN (IP VPN) to DC North", a=1, z=2,
            comments="BT service desk: quote the circuit ID.",
            created="2023-09-04T16:20:45.318772Z", last_updated="2024-03-12T10:05:41.662381Z"),
    2: dict(cid="BTIPVPN-4410-0002", provider=1, type=1, status="active", tenant=1,
            install_date="2022-06-15", termination_date=None, commit_rate=50000,
            description="Plant West secondary WAN (IP VPN), single-ended", a=3, z=None,
            comments="",
            created="2023-09-04T16:24:02.771409Z", last_updated="2023-09-04T16:24:02.771426Z"),
}

# --------------------------------------------------------------------------- derived


def device_display(d):
    dev = DEVICES[d]
    if dev["asset_tag"]:
        return f"{dev['name']} ({dev['asset_tag']})"
    return dev["name"]


def fhrp_display(g):
    grp = FHRP_GROUPS[g]
    name = f"{grp['name']} " if grp["name"] else ""
    name += f"{FHRP_PROTOCOL_LABEL[grp['protocol']]}: {grp['group_id']}"
    if grp["ips"]:
        name += f" ({IPS[grp['ips'][0]]['address']})"
    return name


def cable_display(c):
    return CABLES[c]["label"] or f"#{c}"


def vlan_display(v):
    return f"{VLANS[v]['name']} ({VLANS[v]['vid']})"


def ct_display(t):
    return f"{CIRCUITS[CTS[t]['circuit']]['cid']}: Termination {CTS[t]['side']}"


def cable_peer(i):
    """(cable id, cable end of i, peer interface id) or None."""
    for cid, c in CABLES.items():
        if c["a"] == i:
            return cid, "A", c["b"]
        if c["b"] == i:
            return cid, "B", c["a"]
    return None


def ip_count(i):
    return sum(1 for ip in IPS.values() if ip["obj"] == ("dcim.interface", i))


def fhrp_count(i):
    return sum(1 for a in FHRP_ASSIGNMENTS.values() if a["interface"] == i)


def interface_count(d):
    return sum(1 for i in INTERFACES.values() if i["device"] == d)


class Shapes:
    """Nested/brief representations for one NetBox version."""

    def __init__(self, v4):
        self.v4 = v4

    def _b(self, d, pk, path):
        out = {"id": pk, "url": api(path, pk)}
        out.update(d)
        return out

    def _desc(self, d, desc=""):
        if self.v4:
            d["description"] = desc
        return d

    # each returns the nested (3.7) or brief (4.1) form
    def tenant(self, t):
        if t is None:
            return None
        x = TENANTS[t]
        d = {"id": t, "url": api("tenancy/tenants", t), "display": x["name"], "name": x["name"], "slug": x["slug"]}
        return self._desc(d, x["description"])

    def tag(self, t):
        x = TAGS[t]
        d = {"id": t, "url": api("extras/tags", t)}
        if self.v4:  # NestedTagSerializer carries display_url in 4.1
            d["display_url"] = ui("extras/tags", t)
        d.update({"display": x["name"], "name": x["name"], "slug": x["slug"], "color": x["color"]})
        return d

    def site(self, s):
        if s is None:
            return None
        x = SITES[s]
        d = {"id": s, "url": api("dcim/sites", s), "display": x["name"], "name": x["name"], "slug": x["slug"]}
        return self._desc(d, x["description"])

    def manufacturer(self, m):
        x = MANUFACTURERS[m]
        d = {"id": m, "url": api("dcim/manufacturers", m), "display": x["name"], "name": x["name"],
             "slug": x["slug"]}
        return self._desc(d)

    def device_type(self, t):
        x = DEVICE_TYPES[t]
        d = {"id": t, "url": api("dcim/device-types", t), "display": x["model"],
             "manufacturer": self.manufacturer(x["manufacturer"]), "model": x["model"], "slug": x["slug"]}
        return self._desc(d)

    def device_role(self, r):
        x = DEVICE_ROLES[r]
        d = {"id": r, "url": api("dcim/device-roles", r), "display": x["name"], "name": x["name"],
             "slug": x["slug"]}
        return self._desc(d)

    def platform(self, p):
        if p is None:
            return None
        x = PLATFORMS[p]
        d = {"id": p, "url": api("dcim/platforms", p), "display": x["name"], "name": x["name"],
             "slug": x["slug"]}
        return self._desc(d)

    def rack(self, r):
        if r is None:
            return None
        x = RACKS[r]
        d = {"id": r, "url": api("dcim/racks", r), "display": x["name"], "name": x["name"]}
        return self._desc(d)

    def device(self, dv):
        """Device as used in most places (brief DeviceSerializer in 4.1)."""
        dev = DEVICES[dv]
        d = {"id": dv, "url": api("dcim/devices", dv), "display": device_display(dv), "name": dev["name"]}
        return self._desc(d, dev["description"])

    def legacy_nested_device(self, dv):
        """NestedDeviceSerializer (used for VC master and inside NestedInterface)."""
        dev = DEVICES[dv]
        d = {"id": dv, "url": api("dcim/devices", dv)}
        if self.v4:
            d["display_url"] = ui("dcim/devices", dv)
        d.update({"display": device_display(dv), "name": dev["name"]})
        return d

    def virtual_chassis(self, vc):
        if vc is None:
            return None
        x = VCS[vc]
        d = {"id": vc, "url": api("dcim/virtual-chassis", vc), "display": x["name"], "name": x["name"],
             "master": self.legacy_nested_device(x["master"])}
        return self._desc(d)

    def ip(self, i):
        if i is None:
            return None
        x = IPS[i]
        d = {"id": i, "url": api("ipam/ip-addresses", i), "display": x["address"],
             "family": IPV4 if self.v4 else 4, "address": x["address"]}
        return self._desc(d, x["description"])

    def vlan(self, v):
        if v is None:
            return None
        x = VLANS[v]
        d = {"id": v, "url": api("ipam/vlans", v), "display": vlan_display(v), "vid": x["vid"], "name": x["name"]}
        return self._desc(d, x["description"])

    def vrf(self, v):
        if v is None:
            return None
        x = VRFS[v]
        d = {"id": v, "url": api("ipam/vrfs", v), "display": x["name"], "name": x["name"], "rd": x["rd"]}
        return self._desc(d, x["description"])

    def ipam_role(self, r):
        if r is None:
            return None
        x = IPAM_ROLES[r]
        d = {"id": r, "url": api("ipam/roles", r), "display": x["name"], "name": x["name"], "slug": x["slug"]}
        return self._desc(d, x["description"])

    def cable(self, c):
        if c is None:
            return None
        x = CABLES[c]
        d = {"id": c, "url": api("dcim/cables", c), "display": cable_display(c), "label": x["label"]}
        return self._desc(d, x["description"])

    def interface(self, i):
        """Interface as a related object: NestedInterfaceSerializer (3.7) / brief InterfaceSerializer (4.1)."""
        x = INTERFACES[i]
        peer = cable_peer(i)
        cid = peer[0] if peer else None
        if self.v4:
            return {"id": i, "url": api("dcim/interfaces", i), "display": x["name"],
                    "device": self.device(x["device"]), "name": x["name"], "description": x["description"],
                    "cable": self.cable(cid), "_occupied": cid is not None}
        return {"id": i, "url": api("dcim/interfaces", i), "display": x["name"],
                "device": self.legacy_nested_device(x["device"]), "name": x["name"],
                "cable": cid, "_occupied": cid is not None}

    def legacy_nested_interface(self, i):
        """NestedInterfaceSerializer: used for lag/parent/bridge in both versions."""
        x = INTERFACES[i]
        peer = cable_peer(i)
        cid = peer[0] if peer else None
        d = {"id": i, "url": api("dcim/interfaces", i)}
        if self.v4:
            d["display_url"] = ui("dcim/interfaces", i)
        d.update({"display": x["name"], "device": self.legacy_nested_device(x["device"]), "name": x["name"],
                  "cable": cid, "_occupied": cid is not None})
        return d

    def fhrp_group(self, g):
        x = FHRP_GROUPS[g]
        d = {"id": g, "url": api("ipam/fhrp-groups", g), "display": fhrp_display(g), "protocol": x["protocol"],
             "group_id": x["group_id"]}
        return self._desc(d, x["description"])

    def provider(self, p):
        x = PROVIDERS[p]
        d = {"id": p, "url": api("circuits/providers", p), "display": x["name"], "name": x["name"],
             "slug": x["slug"]}
        return self._desc(d, x["description"])

    def circuit_type(self, t):
        x = CIRCUIT_TYPES[t]
        d = {"id": t, "url": api("circuits/circuit-types", t), "display": x["name"], "name": x["name"],
             "slug": x["slug"]}
        return self._desc(d, x["description"])

    def circuit_termination(self, t):
        """CircuitCircuitTerminationSerializer (termination_a / termination_z)."""
        if t is None:
            return None
        x = CTS[t]
        d = {"id": t, "url": api("circuits/circuit-terminations", t)}
        if self.v4:
            d["display_url"] = ui("circuits/circuit-terminations", t)
        d.update({"display": ct_display(t), "site": self.site(x["site"]), "provider_network": None,
                  "port_speed": x["port_speed"], "upstream_speed": x["upstream_speed"],
                  "xconnect_id": x["xconnect_id"], "description": x["description"]})
        return d


def top(v4, path, pk, uipath=None):
    d = {"id": pk, "url": api(path, pk)}
    if v4:
        d["display_url"] = ui(uipath or path, pk)
    return d


def listing(results):
    return {"count": len(results), "next": None, "previous": None, "results": results}


# --------------------------------------------------------------------------- endpoints


def sites(v4):
    S = Shapes(v4)
    out = []
    for pk, x in SITES.items():
        d = top(v4, "dcim/sites", pk)
        d.update({
            "display": x["name"], "name": x["name"], "slug": x["slug"], "status": ACTIVE,
            "region": None, "group": None, "tenant": S.tenant(x["tenant"]), "facility": x["facility"],
            "time_zone": x["time_zone"], "description": x["description"],
            "physical_address": x["physical_address"], "shipping_address": x["shipping_address"],
            "latitude": x["latitude"], "longitude": x["longitude"], "comments": x["comments"], "asns": [],
            "tags": [S.tag(t) for t in x["tags"]], "custom_fields": x["custom_fields"],
            "created": x["created"], "last_updated": x["last_updated"],
        })
        for k in ("circuit_count", "device_count", "prefix_count", "rack_count", "virtualmachine_count",
                  "vlan_count"):
            d[k] = x[k]
        out.append(d)
    return listing(out)


def devices(v4):
    S = Shapes(v4)
    out = []
    for pk, x in DEVICES.items():
        d = top(v4, "dcim/devices", pk)
        role = S.device_role(x["role"])
        d.update({"display": device_display(pk), "name": x["name"], "device_type": S.device_type(x["device_type"]),
                  "role": role})
        if not v4:
            d["device_role"] = S.device_role(x["role"])  # deprecated alias of `role` since 3.6
        pip = S.ip(x["primary_ip4"])
        d.update({
            "tenant": S.tenant(x["tenant"]), "platform": S.platform(x["platform"]), "serial": x["serial"],
            "asset_tag": x["asset_tag"], "site": S.site(x["site"]), "location": None, "rack": S.rack(x["rack"]),
            "position": x["position"],
            "face": ch("front", "Front") if x["face"] == "front" else None,
            "latitude": None, "longitude": None, "parent_device": None, "status": ACTIVE, "airflow": None,
            "primary_ip": pip, "primary_ip4": S.ip(x["primary_ip4"]), "primary_ip6": None, "oob_ip": None,
            "cluster": None, "virtual_chassis": S.virtual_chassis(x["vc"]), "vc_position": x["vc_position"],
            "vc_priority": x["vc_priority"], "description": x["description"], "comments": "",
            "config_template": None, "config_context": {}, "local_context_data": None,
            "tags": [S.tag(t) for t in x["tags"]], "custom_fields": {},
            "created": x["created"], "last_updated": x["last_updated"],
            "console_port_count": 0, "console_server_port_count": 0, "power_port_count": 0,
            "power_outlet_count": 0, "interface_count": interface_count(pk), "front_port_count": 0,
            "rear_port_count": 0, "device_bay_count": 0, "module_bay_count": 0, "inventory_item_count": 0,
        })
        out.append(d)
    return listing(out)


IF_CREATED = "2023-09-05T10:25:{:02d}.{:06d}Z"


def interfaces(v4):
    S = Shapes(v4)
    out = []
    for pk, x in INTERFACES.items():
        peer = cable_peer(pk)
        d = top(v4, "dcim/interfaces", pk)
        d.update({
            "display": x["name"], "device": S.device(x["device"]) if v4 else S.legacy_nested_device(x["device"]),
            "vdcs": [], "module": None, "name": x["name"], "label": "", "type": ch(*x["type"]),
            "enabled": True, "parent": None, "bridge": None,
            "lag": S.legacy_nested_interface(x["lag"]) if x["lag"] else None,
            "mtu": x["mtu"], "mac_address": x["mac"], "speed": x["speed"],
            "duplex": ch("full", "Full") if x["duplex"] == "full" else None, "wwn": None,
            "mgmt_only": x["mgmt_only"], "description": x["description"],
            "mode": ch(x["mode"], MODES[x["mode"]]) if x["mode"] else None,
            "rf_role": None, "rf_channel": None, "poe_mode": None, "poe_type": None,
            "rf_channel_frequency": None, "rf_channel_width": None, "tx_power": None,
            "untagged_vlan": S.vlan(x["untagged"]), "tagged_vlans": [S.vlan(v) for v in x["tagged"]],
            "mark_connected": False,
            "cable": S.cable(peer[0]) if peer else None,
            "cable_end": peer[1] if peer else "",
            "wireless_link": None,
            "link_peers": [S.interface(peer[2])] if peer else [],
            "link_peers_type": "dcim.interface" if peer else None,
            "wireless_lans": [], "vrf": None, "l2vpn_termination": None,
            "connected_endpoints": [S.interface(peer[2])] if peer else None,
            "connected_endpoints_type": "dcim.interface" if peer else None,
            "connected_endpoints_reachable": True if peer else None,
            "tags": [], "custom_fields": {},
            "created": IF_CREATED.format(pk, 100000 + pk * 7919),
            "last_updated": IF_CREATED.format(pk, 100017 + pk * 7919),
            "count_ipaddresses": ip_count(pk), "count_fhrp_groups": fhrp_count(pk),
            "_occupied": peer is not None,
        })
        out.append(d)
    return listing(out)


def cables(v4):
    S = Shapes(v4)
    out = []
    for pk, x in CABLES.items():
        d = top(v4, "dcim/cables", pk)
        d.update({
            "display": cable_display(pk), "type": x["type"],
            "a_terminations": [{"object_type": "dcim.interface", "object_id": x["a"], "object": S.interface(x["a"])}],
            "b_terminations": [{"object_type": "dcim.interface", "object_id": x["b"], "object": S.interface(x["b"])}],
            "status": ch("connected", "Connected"), "tenant": None, "label": x["label"], "color": x["color"],
            "length": x["length"], "length_unit": ch(*x["length_unit"]) if x["length_unit"] else None,
            "description": x["description"], "comments": "", "tags": [], "custom_fields": {},
            "created": x["created"], "last_updated": x["last_updated"],
        })
        out.append(d)
    return listing(out)


def vlans(v4):
    S = Shapes(v4)
    out = []
    for pk, x in VLANS.items():
        d = top(v4, "ipam/vlans", pk)
        d.update({
            "display": vlan_display(pk), "site": S.site(x["site"]), "group": None, "vid": x["vid"],
            "name": x["name"], "tenant": S.tenant(x["tenant"]), "status": ACTIVE, "role": S.ipam_role(x["role"]),
            "description": x["description"], "comments": "", "l2vpn_termination": None, "tags": [],
            "custom_fields": {}, "created": x["created"], "last_updated": x["last_updated"],
            "prefix_count": x["prefix_count"],
        })
        out.append(d)
    return listing(out)


def prefixes(v4):
    S = Shapes(v4)
    out = []
    for pk, x in PREFIXES.items():
        d = top(v4, "ipam/prefixes", pk)
        d.update({
            "display": x["prefix"], "family": IPV4, "prefix": x["prefix"], "site": S.site(x["site"]),
            "vrf": S.vrf(x["vrf"]), "tenant": S.tenant(x["tenant"]), "vlan": S.vlan(x["vlan"]), "status": ACTIVE,
            "role": S.ipam_role(x["role"]), "is_pool": False, "mark_utilized": False,
            "description": x["description"], "comments": "", "tags": [], "custom_fields": {},
            "created": x["created"], "last_updated": x["last_updated"], "children": 0, "_depth": 0,
        })
        out.append(d)
    return listing(out)


def ip_addresses(v4):
    S = Shapes(v4)
    out = []
    for pk, x in IPS.items():
        otype, oid = x["obj"]
        obj = S.interface(oid) if otype == "dcim.interface" else S.fhrp_group(oid)
        d = top(v4, "ipam/ip-addresses", pk)
        d.update({
            "display": x["address"], "family": IPV4, "address": x["address"], "vrf": S.vrf(x["vrf"]),
            "tenant": None, "status": ACTIVE, "role": ch(*x["role"]) if x["role"] else None,
            "assigned_object_type": otype, "assigned_object_id": oid, "assigned_object": obj,
            "nat_inside": None, "nat_outside": [], "dns_name": x["dns_name"], "description": x["description"],
            "comments": "", "tags": [], "custom_fields": {}, "created": x["created"],
            "last_updated": x["last_updated"],
        })
        out.append(d)
    return listing(out)


def circuits(v4):
    S = Shapes(v4)
    out = []
    for pk, x in CIRCUITS.items():
        d = top(v4, "circuits/circuits", pk)
        d.update({
            "display": x["cid"], "cid": x["cid"], "provider": S.provider(x["provider"]), "provider_account": None,
            "type": S.circuit_type(x["type"]), "status": ACTIVE, "tenant": S.tenant(x["tenant"]),
            "install_date": x["install_date"], "termination_date": x["termination_date"],
            "commit_rate": x["commit_rate"], "description": x["description"],
            "termination_a": S.circuit_termination(x["a"]), "termination_z": S.circuit_termination(x["z"]),
            "comments": x["comments"], "tags": [], "custom_fields": {}, "created": x["created"],
            "last_updated": x["last_updated"],
        })
        if v4:
            d["assignments"] = []
        out.append(d)
    return listing(out)


def fhrp_groups(v4):
    S = Shapes(v4)
    out = []
    for pk, x in FHRP_GROUPS.items():
        d = {"id": pk, "name": x["name"], "url": api("ipam/fhrp-groups", pk)}  # `name` precedes `url` (Meta.fields)
        if v4:
            d["display_url"] = ui("ipam/fhrp-groups", pk)
        d.update({
            "display": fhrp_display(pk), "protocol": x["protocol"], "group_id": x["group_id"],
            "auth_type": x["auth_type"], "auth_key": x["auth_key"], "description": x["description"],
            "comments": "", "tags": [], "custom_fields": {}, "created": x["created"],
            "last_updated": x["last_updated"], "ip_addresses": [S.ip(i) for i in x["ips"]],
        })
        out.append(d)
    return listing(out)


def fhrp_group_assignments(v4):
    S = Shapes(v4)
    out = []
    for pk, x in FHRP_ASSIGNMENTS.items():
        iface = INTERFACES[x["interface"]]
        d = top(v4, "ipam/fhrp-group-assignments", pk)
        d.update({
            "display": f"{iface['name']}: {fhrp_display(x['group'])} ({x['priority']})",
            "group": S.fhrp_group(x["group"]), "interface_type": "dcim.interface",
            "interface_id": x["interface"], "interface": S.interface(x["interface"]), "priority": x["priority"],
            "created": x["created"], "last_updated": x["last_updated"],
        })
        out.append(d)
    return listing(out)


FILES = {
    "sites": sites, "devices": devices, "interfaces": interfaces, "cables": cables, "vlans": vlans,
    "prefixes": prefixes, "ip-addresses": ip_addresses, "circuits": circuits, "fhrp-groups": fhrp_groups,
    "fhrp-group-assignments": fhrp_group_assignments,
}


def main(outdir):
    for ver, v4 in (("v3", False), ("v4", True)):
        d = os.path.join(outdir, ver)
        os.makedirs(d, exist_ok=True)
        for name, fn in FILES.items():
            with open(os.path.join(d, f"{name}.json"), "w", encoding="utf-8") as f:
                json.dump(fn(v4), f, indent=2, ensure_ascii=False)
                f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
