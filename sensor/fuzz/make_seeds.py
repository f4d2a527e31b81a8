#!/usr/bin/env python3
"""Writes a libFuzzer seed corpus for one parser, or for one of the other fuzz targets.

    sensor/fuzz/make_seeds.py PARSER OUTDIR [CAPTURE ...]
    sensor/fuzz/make_seeds.py decoder_fuzz|reassembly_fuzz|batch_fuzz|rules_fuzz OUTDIR [CAPTURE ...]

Without captures, every capture under ../shared/captures (the workplace's corpus) and
tests/data/captures is read.

A PARSER's seeds are in parser_fuzz's input format: tshark picks the flows (or frames) of the
protocol; each flow becomes one seed: | transport | responder port | then | direction | length |
payload | per packet. decoder_fuzz gets each frame behind its link-type selector (and each IP packet
again under every other link type the decoder reads); reassembly_fuzz a few hand-made segment
orders; batch_fuzz the ObservationBatch text protos in collector/fuzz/batch_seeds, encoded by protoc;
rules_fuzz the shipped device rules, a few rules a seed.
The corpora the test suite uses (tests/data/fuzz-seeds) were written by this from tests/data/captures
and then minimized with libFuzzer's -merge=1 (docs/fuzzing.md).
"""
import hashlib
import json
import os
import struct
import subprocess
import sys

# parser name -> (tshark display filter that marks its flows or frames, "flow" or "frame")
SEEDS = {
    "dhcp": ("dhcp", "flow"),
    "http": ("http", "flow"),
    "dns": ("dns && !mdns && !llmnr", "flow"),
    "mdns": ("mdns", "flow"),
    "llmnr": ("llmnr", "flow"),
    "nbns": ("nbns", "flow"),
    "tls": ("tls", "flow"),
    "lldp": ("lldp", "frame"),
    "cdp": ("cdp", "frame"),
    "dhcpv6": ("dhcpv6", "flow"),
    "ssdp": ("ssdp", "flow"),
    "ws_discovery": ("udp.port == 3702", "flow"),
    "snmp": ("snmp", "flow"),
    "syslog": ("syslog", "flow"),
    "ntp": ("ntp", "flow"),
    "ssh": ("ssh", "flow"),
    "smb": ("tcp && (nbss || smb || smb2)", "flow"),
    "smb_browser": ("nbdgm", "flow"),
    "tcp_os": ("tcp.flags.syn == 1", "frame"),
    "hl7": ("hl7", "flow"),
    "dicom": ("dicom", "flow"),
    "poct1a": ("tcp && xml", "flow"),  # no POCT1-A capture is public: XML over TCP to start from
}

# tshark finds HL7 and DICOM only on the ports it is told (the captures use 2575, 6661, 6700; 104,
# 4242, 11112): the sensor finds them by content.
DECODE_AS = {
    "hl7": ["-d", "tcp.port==2575,hl7", "-d", "tcp.port==6661,hl7", "-d", "tcp.port==6700,hl7"],
    "dicom": ["-d", "tcp.port==4242,dicom", "-d", "tcp.port==11112,dicom"],
}

MAX_SEED_BYTES = 64 * 1024
MAX_SEEDS_PER_CAPTURE = 64


def tshark(args):
    r = subprocess.run(["tshark", "-n"] + args, capture_output=True, text=True)
    return r.stdout


def captures(root_dirs):
    for root in root_dirs:
        for dirpath, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith((".pcap", ".pcapng", ".cap")):
                    yield os.path.join(dirpath, f)


def write_seed(outdir, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def flow_seeds(path, display_filter, outdir, decode_as=()):
    streams = set()
    for line in tshark(list(decode_as) + ["-r", path, "-Y", display_filter, "-T", "fields", "-e", "tcp.stream", "-e", "udp.stream"]).splitlines():
        tcp, _, udp = line.partition("\t")
        if tcp:
            streams.add(("t", tcp.split(",")[0]))
        elif udp:
            streams.add(("u", udp.split(",")[0]))
    if not streams:
        return 0
    seeds = {}
    fields = ["tcp.stream", "udp.stream", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.payload", "udp.payload"]
    args = ["-r", path, "-Y", "tcp.len > 0 || udp", "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    for line in tshark(args).splitlines():
        row = (line.split("\t") + [""] * len(fields))[: len(fields)]
        key = ("t", row[0]) if row[0] else ("u", row[1])
        if key not in streams:
            continue
        src, dst, payload = (row[2], row[3], row[6]) if key[0] == "t" else (row[4], row[5], row[7])
        if not src or not payload:
            continue
        payload = bytes.fromhex(payload.split(",")[0].replace(":", ""))[:65535]
        if key not in seeds:
            if len(seeds) >= MAX_SEEDS_PER_CAPTURE:
                continue
            seeds[key] = {"initiator": src, "data": bytearray([17 if key[0] == "u" else 6]) + struct.pack(">H", int(dst.split(",")[0]))}
        seed = seeds[key]
        if len(seed["data"]) + 3 + len(payload) > MAX_SEED_BYTES:
            continue
        direction = 0 if src == seed["initiator"] else 1
        seed["data"] += bytes([direction]) + struct.pack(">H", len(payload)) + payload
    for seed in seeds.values():
        write_seed(outdir, bytes(seed["data"]))
    return len(seeds)


def frame_seeds(path, display_filter, outdir):
    out = tshark(["-r", path, "-Y", display_filter, "-T", "json", "-x"])
    if not out.strip():
        return 0
    count = 0
    for packet in json.loads(out)[:MAX_SEEDS_PER_CAPTURE]:
        layers = packet.get("_source", {}).get("layers", {})
        raw = layers.get("frame_raw")
        if "eth" not in layers or not raw:
            continue
        write_seed(outdir, bytes.fromhex(raw[0]))
        count += 1
    return count


# Seeds made here, for parsers that tests/data/captures has no traffic of: each one flow of the
# protocol's ordinary messages, written from the specifications (no capture's bytes).
def flow_seed(transport, port, records):
    """One parser_fuzz input: records are (0 to the responder / 1 to the initiator, bytes)."""
    data = bytearray([17 if transport == "udp" else 6]) + struct.pack(">H", port)
    for direction, payload in records:
        data += bytes([direction]) + struct.pack(">H", len(payload)) + payload
    return bytes(data)


def ber(tag, content):
    n = len(content)
    length = bytes([n]) if n < 128 else (bytes([0x81, n]) if n < 256 else bytes([0x82]) + struct.pack(">H", n))
    return bytes([tag]) + length + content


def ber_oid(text):
    parts = [int(x) for x in text.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(chunk))
    return ber(0x06, bytes(out))


def snmp(pdu_tag, request_id, bindings, community=b"public"):
    varbinds = b"".join(ber(0x30, ber_oid(oid) + value) for oid, value in bindings)
    pdu = ber(pdu_tag, ber(0x02, struct.pack(">I", request_id)) + ber(0x02, b"\x00") + ber(0x02, b"\x00") + ber(0x30, varbinds))
    return ber(0x30, ber(0x02, b"\x01") + ber(0x04, community) + pdu)


def netbios_name(name, suffix):
    raw = name.upper().ljust(15)[:15].encode() + bytes([suffix])
    # RFC 1001 first-level encoding: each half byte as a letter from 'A'.
    return b"\x20" + b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in raw) + b"\x00"


def utf16(text):
    return text.encode("utf-16-le")


def ntlmssp_challenge():
    av = b""
    for kind, value in ((2, "WARD"), (1, "PACS01"), (4, "ward.example.org"), (3, "pacs01.ward.example.org")):
        av += struct.pack("<HH", kind, len(utf16(value))) + utf16(value)
    av += struct.pack("<HH", 0, 0)
    target = utf16("WARD")
    header = 56
    return (b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", len(target), len(target), header) +
            struct.pack("<I", 0xE28A8215) + b"\x11" * 8 + b"\x00" * 8 +
            struct.pack("<HHI", len(av), len(av), header + len(target)) +
            bytes([10, 0]) + struct.pack("<H", 17763) + b"\x00\x00\x00\x0f" + target + av)


def ntlmssp_authenticate():
    domain, user, host = utf16("WARD"), utf16("nobody"), utf16("MODALITY7")
    header = 72
    fields = b""
    offset = header
    for value in (b"", b"", domain, user, host, b""):  # LM, NT responses, domain, user, workstation, session key
        fields += struct.pack("<HHI", len(value), len(value), offset)
        offset += len(value)
    return (b"NTLMSSP\x00" + struct.pack("<I", 3) + fields + struct.pack("<I", 0xE2888215) +
            bytes([6, 1]) + struct.pack("<H", 7601) + b"\x00\x00\x00\x0f" + domain + user + host)


def smb2(command, response, body, message_id):
    header = (b"\xfeSMB" + struct.pack("<HHI", 64, 0, 0) + struct.pack("<HH", command, 1) +
              struct.pack("<I", 1 if response else 0) + struct.pack("<I", 0) + struct.pack("<Q", message_id) +
              struct.pack("<I", 0) + struct.pack("<I", 0) + struct.pack("<Q", 0x1000 if command == 1 else 0) + b"\x00" * 16)
    message = header + body
    return b"\x00" + struct.pack(">I", len(message))[1:] + message


def smb_flow():
    negotiate = struct.pack("<HHHH", 36, 2, 1, 0) + struct.pack("<I", 0x7F) + b"\x22" * 16 + struct.pack("<IHH", 0, 0, 0) + struct.pack("<HH", 0x0210, 0x0302)
    negotiate_rsp = struct.pack("<HHH", 65, 1, 0x0302) + b"\x00\x00" + b"\x33" * 16 + struct.pack("<IIII", 0x7F, 65536, 65536, 65536) + b"\x00" * 16 + struct.pack("<HHI", 128, 0, 0)
    blob2 = ntlmssp_challenge()
    setup_rsp = struct.pack("<HHHH", 9, 0, 72, len(blob2)) + blob2
    blob3 = ntlmssp_authenticate()
    setup_req = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 88, len(blob3), 0) + blob3
    return flow_seed("tcp", 445, [(0, smb2(0, False, negotiate, 0)), (1, smb2(0, True, negotiate_rsp, 0)),
                                  (0, smb2(1, False, setup_req, 1)), (1, smb2(1, True, setup_rsp, 1))])


def browser_announcement():
    mailslot = b"\\MAILSLOT\\BROWSE\x00"
    announcement = (bytes([0x01, 0x01]) + struct.pack("<I", 720000) + b"MODALITY7".ljust(16, b"\x00") +
                    bytes([6, 1]) + struct.pack("<I", 0x00001003) + bytes([15, 1]) + struct.pack("<H", 0xAA55) + b"CT scanner\x00")
    smb_header = b"\xffSMB" + bytes([0x25]) + b"\x00" * 4 + bytes([0x00]) + b"\x00\x00" + b"\x00" * 12 + b"\x00\x00" + b"\x00\x00" * 3
    words = 17
    params_offset = 32 + 1 + words * 2 + 2 + len(mailslot)
    setup = struct.pack("<HHH", 1, 1, 2)  # opcode write mailslot, priority, class
    fixed = struct.pack("<HHHHBBHIHHHHHBB", 0, len(announcement), 0, 0, 0, 0, 0, 0, 0, 0, 0, len(announcement), params_offset, 3, 0)
    body = bytes([words]) + fixed + setup + struct.pack("<H", len(mailslot) + len(announcement)) + mailslot + announcement
    smb = smb_header + body
    names = netbios_name("MODALITY7", 0x00) + netbios_name("WARD", 0x1D)
    datagram = bytes([0x11, 0x02]) + struct.pack(">H", 7) + bytes([10, 0, 0, 7]) + struct.pack(">HHH", 138, len(names) + len(smb), 0) + names + smb
    return flow_seed("udp", 138, [(0, datagram)])


def dhcpv6_solicit():
    fqdn = b"\x07infpump\x04ward\x07example\x00"
    duid = struct.pack(">HHI", 1, 1, 700000000) + bytes.fromhex("00095b123456")
    options = (struct.pack(">HH", 1, len(duid)) + duid + struct.pack(">HHH", 8, 2, 0) +
               struct.pack(">HH", 6, 6) + struct.pack(">HHH", 23, 24, 39) +
               struct.pack(">HHI", 16, 4 + 2 + 12, 311) + struct.pack(">H", 12) + b"MSFT 5.0 pmp" +
               struct.pack(">HH", 39, 1 + len(fqdn)) + b"\x01" + fqdn)
    server = struct.pack(">HH", 2, len(duid)) + duid
    advertise = bytes([2]) + b"\x12\x34\x56" + options + server
    return flow_seed("udp", 547, [(0, bytes([1]) + b"\x12\x34\x56" + options), (1, advertise)])


def ntp_pair():
    request = bytes([0x23, 0, 6, 0xEC]) + b"\x00" * 8 + b"\x00" * 4 + b"\x00" * 24 + struct.pack(">II", 3900000000, 0)
    reply = bytes([0x24, 2, 6, 0xE9]) + struct.pack(">II", 0x100, 0x200) + bytes([10, 0, 0, 1]) + struct.pack(">IIIIIIII", 3899999000, 0, 3900000000, 0, 3900000001, 0, 3900000001, 5)
    return flow_seed("udp", 123, [(0, request), (1, reply)])


SYNTHETIC = {
    "ssdp": lambda: [
        flow_seed("udp", 1900, [(0, b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
                                    b"LOCATION: http://10.0.0.7:49152/description.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
                                    b"SERVER: Linux/4.14 UPnP/1.0 PatientMonitor/2.1\r\nUSN: uuid:3f2a-0001::upnp:rootdevice\r\n\r\n")]),
        flow_seed("udp", 1900, [(0, b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n"
                                    b"USER-AGENT: Windows/10.0 UPnP/2.0 Viewer/1.0\r\n\r\n"),
                                (1, b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=100\r\nEXT:\r\nLOCATION: http://10.0.0.8:80/upnp.xml\r\n"
                                    b"SERVER: RTOS/1.0 UPnP/1.0 InfusionPump/3.3\r\nST: urn:schemas-upnp-org:device:Basic:1\r\n"
                                    b"USN: uuid:aa-bb::urn:schemas-upnp-org:device:Basic:1\r\n\r\n")])],
    "ws_discovery": lambda: [flow_seed("udp", 3702, [(0, (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
        'xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof" xmlns:pub="http://schemas.microsoft.com/windows/pub/2005/07">'
        '<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>'
        '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello</wsa:Action>'
        '<wsa:MessageID>urn:uuid:1b2c</wsa:MessageID><wsd:AppSequence InstanceId="12" MessageNumber="1"/></soap:Header>'
        '<soap:Body><wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:6a0b-printer</wsa:Address></wsa:EndpointReference>'
        '<wsd:Types>wsdp:Device pub:Computer</wsd:Types><wsd:Scopes>http://schemas.xmlsoap.org/ws/2006/02/devprof/model/LabelPrinter</wsd:Scopes>'
        '<wsd:XAddrs>http://10.0.0.9:5357/6a0b</wsd:XAddrs><wsd:MetadataVersion>2</wsd:MetadataVersion></wsd:Hello></soap:Body></soap:Envelope>'
    ).encode())])],
    "syslog": lambda: [
        flow_seed("udp", 514, [(0, b"<134>Jan  1 00:00:00 infusion-01 pumpd[12]: occlusion alarm cleared"),
                               (0, b"<165>1 2003-10-11T22:14:15.003Z monitor7.ward.example.org evntslog - ID47 "
                                   b"[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] BOMAn application event")]),
        flow_seed("tcp", 601, [(0, b"87 <13>1 2024-05-01T10:00:00Z ct-scanner-2 scanner 311 - - exam started for study 1.2.3\n"
                                   b"<14>May  1 10:00:01 ct-scanner-2 scanner: done\n")])],
    "ntp": lambda: [ntp_pair()],
    "ssh": lambda: [flow_seed("tcp", 22, [(1, b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"), (0, b"SSH-2.0-libssh_0.9.6\r\n"),
                                          (1, struct.pack(">IBB", 28, 4, 20) + b"\x00" * 16 + b"\x00\x00\x00\x00" + b"\x00" * 4)])],
    "snmp": lambda: [flow_seed("udp", 161, [
        (0, snmp(0xA0, 7, [("1.3.6.1.2.1.1.1.0", b"\x05\x00"), ("1.3.6.1.2.1.1.5.0", b"\x05\x00")])),
        (1, snmp(0xA2, 7, [("1.3.6.1.2.1.1.1.0", ber(0x04, b"Infusion pump controller, firmware 3.3.1")),
                           ("1.3.6.1.2.1.1.5.0", ber(0x04, b"pump-ward7-12")),
                           ("1.3.6.1.2.1.1.2.0", ber_oid("1.3.6.1.4.1.9.1.1208"))]))]),
        flow_seed("udp", 162, [(0, snmp(0xA7, 9, [("1.3.6.1.2.1.1.3.0", ber(0x43, b"\x01\x00")),
                                                  ("1.3.6.1.6.3.1.1.4.1.0", ber_oid("1.3.6.1.6.3.1.1.5.3"))]))])],
    "dhcpv6": lambda: [dhcpv6_solicit()],
    "smb": lambda: [smb_flow()],
    "smb_browser": lambda: [browser_announcement()],
    "poct1a": lambda: [flow_seed("tcp", 5000, [(0, (
        '<?xml version="1.0" encoding="utf-8"?>\n<HEL.R01 xmlns="http://www.poccic.org/POCT1"><HDR><HDR.message_type V="HEL.R01"/>'
        '<HDR.control_id V="1"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="2024-05-01T10:00:00+00:00"/></HDR>'
        '<DEV><DEV.device_id V="00-11-22-33"/><DEV.vendor_id V="Example Diagnostics"/><DEV.model_id V="BG-300"/>'
        '<DEV.serial_id V="SN0042"/><DEV.manufacturer_name V="Example Diagnostics Inc"/><DEV.sw_version V="4.2.1"/>'
        '<DCP><DCP.application_timeout V="30"/></DCP><DSC><DSC.connection_profile_cd V="SA"/></DSC></DEV></HEL.R01>'
    ).encode()), (1, b'<ACK.R01><HDR><HDR.control_id V="1"/></HDR><ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="1"/></ACK></ACK.R01>')])],
}


def synthetic_seeds(parser, outdir):
    seeds = SYNTHETIC[parser]()
    for seed in seeds:
        write_seed(outdir, seed)
    return len(seeds)


# decoder_fuzz's selector byte: the index of the link type in its kLinkTypes (decoder_fuzz.cc).
LINK_TYPES = [1, 113, 276, 12, 228, 229, 0, 108]  # EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP
# OpenBSD's pcap numbers DLT_RAW 14; files carry LINKTYPE_RAW, 101.
LINKTYPE_ALIASES = {101: 12, 14: 12}


def read_frames(path):
    """Yields (link type, frame bytes, bytes on the wire) of a pcap or pcapng file; stops at damage."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        if len(data) < 24:
            return
        link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        off = 24
        while off + 16 <= len(data):
            incl, orig = struct.unpack(e + "II", data[off + 8:off + 16])
            if off + 16 + incl > len(data):
                return
            yield link, data[off + 16:off + 16 + incl], orig
            off += 16 + incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        # pcapng: section header, interface descriptions (link types), enhanced/simple packets.
        e, links, off = "<", [], 0
        while off + 12 <= len(data):
            btype = struct.unpack(e + "I", data[off:off + 4])[0]
            if btype == 0x0A0D0D0A:
                e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                links = []
            blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
            if blen < 12 or off + blen > len(data):
                return
            body = data[off + 8:off + blen - 4]
            if btype == 1 and len(body) >= 2:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                iface, _, _, incl, orig = struct.unpack(e + "IIIII", body[:20])
                if iface < len(links):
                    yield links[iface], body[20:20 + incl], orig
            elif btype == 3 and len(body) >= 4 and links:
                orig = struct.unpack(e + "I", body[:4])[0]
                yield links[0], body[4:4 + orig], orig
            off += blen


def ip_packet(link, frame):
    """The IP packet inside an Ethernet, SLL, raw or loopback frame (no VLAN tags), else None."""
    if link == 1 and len(frame) >= 14 and frame[12:14] in (b"\x08\x00", b"\x86\xdd"):
        return frame[14:]
    if link == 113 and len(frame) >= 16 and frame[14:16] in (b"\x08\x00", b"\x86\xdd"):
        return frame[16:]
    if link in (12, 228, 229):
        return frame
    if link in (0, 108) and len(frame) >= 4:
        return frame[4:]
    return None


def rewrap(packet, link):
    """`packet` (IPv4 or IPv6) as a frame of `link`."""
    v6 = len(packet) > 0 and packet[0] >> 4 == 6
    ethertype = b"\x86\xdd" if v6 else b"\x08\x00"
    mac = bytes.fromhex("00095b123456")
    if link == 1:
        return bytes.fromhex("0019b9010203") + mac + ethertype + packet
    if link == 113:  # packet type, ARPHRD_ETHER, address length 6, address (8), protocol
        return b"\x00\x00\x00\x01\x00\x06" + mac + b"\x00\x00" + ethertype + packet
    if link == 276:  # protocol, reserved, interface, ARPHRD_ETHER, packet type, address length, address (8)
        return ethertype + b"\x00\x00" + b"\x00\x00\x00\x02" + b"\x00\x01" + b"\x00\x06" + mac + b"\x00\x00" + packet
    if link in (12, 228, 229):
        return packet
    if link == 0:
        return struct.pack("<I", 10 if v6 else 2) + packet
    if link == 108:
        return struct.pack(">I", 24 if v6 else 2) + packet
    raise ValueError(link)


def decoder_seeds(paths, outdir):
    count = 0
    for path in paths:
        for i, (link, frame, orig) in enumerate(read_frames(path)):
            if i >= MAX_SEEDS_PER_CAPTURE:
                break
            link = LINKTYPE_ALIASES.get(link, link)
            if link not in LINK_TYPES:
                continue
            cut = min(max(orig - len(frame), 0), 7)
            write_seed(outdir, bytes([LINK_TYPES.index(link) + 8 * cut]) + frame)
            count += 1
            packet = ip_packet(link, frame)
            if packet is None:
                continue
            for other in LINK_TYPES:
                if other != link:
                    write_seed(outdir, bytes([LINK_TYPES.index(other)]) + rewrap(packet, other))
                    count += 1
    return count


def reassembly_seeds(outdir):
    """Segment orders a reassembler must survive: in order, reversed, overlapping, repeated, wrapped."""
    def seed(max_pending, budget, isn, segments):
        data = bytes([max_pending, budget]) + struct.pack(">I", isn)
        for syn, offset, length in segments:
            data += bytes([1]) + struct.pack(">H", length) if syn else bytes([0]) + struct.pack(">HH", offset, length)
        write_seed(outdir, data)
    in_order = [(False, i * 100, 100) for i in range(10)]
    seed(255, 255, 1000, in_order)
    seed(255, 255, 0xFFFFFF00, in_order)  # sequence numbers wrap in the middle
    seed(255, 255, 1000, list(reversed(in_order)))
    seed(2, 255, 1000, list(reversed(in_order)))  # too much waits: holes are given up
    seed(255, 3, 1000, in_order)  # the budget runs out
    seed(255, 255, 1000, [(True, 0, 50), (False, 30, 100), (False, 10, 40), (False, 200, 10), (False, 130, 70)])
    seed(255, 255, 7, [(False, 0, 10), (False, 0, 10), (False, 5, 20), (False, 40, 5), (False, 40, 1), (False, 25, 15)])
    return 7


def batch_seeds(outdir):
    """Each collector/fuzz/batch_seeds/*.textproto as the bytes a sensor sends (protoc --encode)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    count = 0
    sources = os.path.join(repo, "collector", "fuzz", "batch_seeds")
    for name in sorted(os.listdir(sources)):
        if not name.endswith(".textproto"):
            continue
        with open(os.path.join(sources, name), "rb") as f:
            text = f.read()
        r = subprocess.run(["protoc", "-I", os.path.join(repo, "proto"), "--encode=auscult.v1.ObservationBatch",
                            "auscult/v1/observation.proto"], input=text, capture_output=True)
        if r.returncode != 0:
            sys.exit(f"{name}: {r.stderr.decode(errors='replace')}")
        write_seed(outdir, r.stdout)
        count += 1
    return count


def rules_seeds(outdir):
    """The shipped device rules in pieces of a few rules each: the whole file (50 KB, hundreds of
    regular expressions) would make each execution slow."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "collector", "data", "device_rules.txt"), "rb") as f:
        blocks = f.read().split(b"\n\n")
    count, piece = 0, b""
    for block in blocks:
        if piece and len(piece) + len(block) > 1024:
            write_seed(outdir, piece)
            count, piece = count + 1, b""
        piece += block + b"\n\n"
    if piece:
        write_seed(outdir, piece)
        count += 1
    return count


TARGETS = ("decoder_fuzz", "reassembly_fuzz", "batch_fuzz", "rules_fuzz")


def main():
    if len(sys.argv) < 3 or (sys.argv[1] not in SEEDS and sys.argv[1] not in TARGETS):
        sys.exit("usage: make_seeds.py PARSER|TARGET OUTDIR [CAPTURE ...]; parsers: " + ", ".join(sorted(SEEDS)) +
                 "; targets: " + ", ".join(TARGETS))
    parser, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    paths = sys.argv[3:] or list(captures([os.path.join(repo, "..", "shared", "captures"), os.path.join(repo, "tests", "data", "captures")]))
    if parser in TARGETS:
        if parser == "decoder_fuzz":
            total = decoder_seeds(paths, outdir)
        elif parser == "reassembly_fuzz":
            total = reassembly_seeds(outdir)
        elif parser == "rules_fuzz":
            total = rules_seeds(outdir)
        else:
            total = batch_seeds(outdir)
        print(f"{parser}: {total} seeds in {outdir}")
        return
    display_filter, kind = SEEDS[parser]
    total = synthetic_seeds(parser, outdir) if parser in SYNTHETIC else 0
    for path in paths:
        if kind == "flow":
            total += flow_seeds(path, display_filter, outdir, DECODE_AS.get(parser, ()))
        else:
            total += frame_seeds(path, display_filter, outdir)
    print(f"{parser}: {total} seeds from {len(paths)} captures in {outdir}")


if __name__ == "__main__":
    main()
