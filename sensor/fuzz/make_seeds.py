#!/usr/bin/env python3
"""Writes a libFuzzer seed corpus for one parser from real captures, in parser_fuzz's input format.

    sensor/fuzz/make_seeds.py PARSER OUTDIR [CAPTURE ...]

Without captures, every capture under ../shared/captures (the workplace's corpus) and
tests/data/captures is read. tshark picks the flows (or frames) of the protocol; each flow becomes
one seed: | transport | responder port | then | direction | length | payload | per packet.
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


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SEEDS:
        sys.exit("usage: make_seeds.py PARSER OUTDIR [CAPTURE ...]; parsers: " + ", ".join(sorted(SEEDS)))
    parser, outdir = sys.argv[1], sys.argv[2]
    display_filter, kind = SEEDS[parser]
    os.makedirs(outdir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    paths = sys.argv[3:] or list(captures([os.path.join(repo, "..", "shared", "captures"), os.path.join(repo, "tests", "data", "captures")]))
    total = 0
    for path in paths:
        if kind == "flow":
            total += flow_seeds(path, display_filter, outdir, DECODE_AS.get(parser, ()))
        else:
            total += frame_seeds(path, display_filter, outdir)
    print(f"{parser}: {total} seeds from {len(paths)} captures in {outdir}")


if __name__ == "__main__":
    main()
