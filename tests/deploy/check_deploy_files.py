#!/usr/bin/env python3
"""Checks the container and Kubernetes files in deploy/ without an engine or a cluster (none runs in
the test environment): the Dockerfile's stages, users and sources, and that its build stage installs
what deploy/install-deps.sh says a build needs; the manifests' structure and cross-references
(selectors, ports, volumes, probes), and that the collector's flags in the ConfigMap pass
`auscult-collector --check_config`. With kubectl present, `kubectl kustomize` must render them.

Usage: check_deploy_files.py SOURCE_DIR BIN_DIR      (exit 0: good, 1: a finding, 77: cannot check)
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("python3-yaml is not installed: cannot check the Kubernetes manifests")
    sys.exit(77)

SOURCE, BIN = sys.argv[1], sys.argv[2]
findings = []


def finding(what):
    findings.append(what)
    print("FINDING:", what)


# ---- Dockerfile ----
def instructions(path):
    """(instruction, argument text) pairs, continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in open(path, encoding="utf-8"):
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped[:-1] if stripped.endswith("\\") else " " + stripped
        if not stripped.endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            current = ""
    return out


dockerfile = os.path.join(SOURCE, "deploy/containers/Dockerfile")
known = {"FROM", "RUN", "COPY", "ADD", "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "ENV", "ARG", "LABEL",
         "HEALTHCHECK", "VOLUME", "STOPSIGNAL", "SHELL", "ONBUILD"}
stages, stage, users, entry = [], None, {}, {}
build_packages = set()
for word, rest in instructions(dockerfile):
    if word not in known:
        finding(f"Dockerfile: unknown instruction {word}")
    if word == "FROM":
        m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
        if not m:
            finding(f"Dockerfile: FROM {rest}")
            continue
        if not m.group(1).startswith("debian:12"):
            finding(f"Dockerfile: stage on {m.group(1)}, not Debian 12")
        stage = m.group(2) or str(len(stages))
        stages.append(stage)
    elif word == "COPY":
        m = re.match(r"--from=(\S+)\s", rest)
        if m:
            if m.group(1) not in stages[:-1]:
                finding(f"Dockerfile: stage {stage} copies from {m.group(1)}, not an earlier stage")
        else:
            for src in shlex.split(rest)[:-1]:
                if not os.path.exists(os.path.join(SOURCE, src)):
                    finding(f"Dockerfile: COPY source {src} is not in the tree")
    elif word == "USER":
        users[stage] = rest
    elif word in ("ENTRYPOINT", "CMD"):
        if not rest.startswith("["):
            finding(f"Dockerfile: {word} of stage {stage} is not in exec (JSON) form")
        entry.setdefault(stage, {})[word] = rest
    elif word == "RUN" and stage == "build":
        build_packages.update(p for p in re.findall(r"[a-z0-9][a-z0-9.+-]+", rest.split("install", 1)[-1].split("&&")[0]))
for target in ("collector", "sensor"):
    if target not in stages:
        finding(f"Dockerfile: no stage named {target}")
    elif users.get(target, "root") in ("root", "0"):
        finding(f"Dockerfile: stage {target} runs as root")
    elif "ENTRYPOINT" not in entry.get(target, {}):
        finding(f"Dockerfile: stage {target} has no ENTRYPOINT")
if "build" not in stages:
    finding("Dockerfile: no build stage")

# What a build needs, per deploy/install-deps.sh (its first list), less what only runs or tests it.
deps = open(os.path.join(SOURCE, "deploy/install-deps.sh"), encoding="utf-8").read()
first = re.search(r"packages=\(\n(.*?)\n\)", deps, re.S).group(1)
needed = set(first.split()) - {"libgtest-dev", "libgmock-dev", "postgresql-15", "postgresql-client-15", "ieee-data",
                               "openssl"}
for p in sorted(needed - build_packages):
    finding(f"Dockerfile: the build stage does not install {p} (deploy/install-deps.sh lists it)")

# ---- Kubernetes ----
kdir = os.path.join(SOURCE, "deploy/kubernetes")
kustomization = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml"), encoding="utf-8"))
documents = []
for resource in kustomization.get("resources", []):
    path = os.path.join(kdir, resource)
    if not os.path.exists(path):
        finding(f"kustomization: {resource} is not there")
        continue
    documents += [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
by_kind = {}
for d in documents:
    for key in ("apiVersion", "kind", "metadata"):
        if key not in d:
            finding(f"manifest without {key}: {str(d)[:80]}")
    if "name" not in d.get("metadata", {}):
        finding(f"{d.get('kind')} without a name")
    by_kind.setdefault(d.get("kind"), []).append(d)

configmaps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
deployments = by_kind.get("Deployment", [])
if not deployments:
    finding("no Deployment")
flags_checked = False
for dep in deployments:
    name = dep["metadata"]["name"]
    spec = dep["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if any(labels.get(k) != v for k, v in spec["selector"]["matchLabels"].items()):
        finding(f"Deployment {name}: selector does not match the pod labels")
    pod = spec["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        finding(f"Deployment {name}: pods may run as root")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation", True) or not sc.get("readOnlyRootFilesystem") or \
                "ALL" not in sc.get("capabilities", {}).get("drop", []):
            finding(f"{name}/{c['name']}: not locked down (privilege escalation, writable root or capabilities)")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            p = c.get(probe)
            if not p:
                finding(f"{name}/{c['name']}: no {probe}")
                continue
            for kind in ("httpGet", "tcpSocket", "grpc"):
                if kind in p and p[kind]["port"] not in ports and p[kind]["port"] not in ports.values():
                    finding(f"{name}/{c['name']}: {probe} names port {p[kind]['port']}, which it does not have")
        mounts = {}
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                finding(f"{name}/{c['name']}: mounts volume {m['name']}, which the pod does not have")
            mounts[m["mountPath"]] = m
        for v in volumes.values():
            if "configMap" in v and v["configMap"]["name"] not in configmaps:
                finding(f"{name}: volume {v['name']} names ConfigMap {v['configMap']['name']}, not in the manifests")
        # The flag file the container is told to read is the one mounted from the ConfigMap, and
        # the collector accepts it.
        for arg in c.get("args", []):
            if not arg.startswith("--flagfile="):
                continue
            path = arg.split("=", 1)[1]
            m = mounts.get(path)
            if not m:
                finding(f"{name}/{c['name']}: reads {path}, which is not mounted")
                continue
            cm = configmaps[volumes[m["name"]]["configMap"]["name"]]
            flags = cm["data"][m["subPath"]]
            with tempfile.TemporaryDirectory() as tmp:
                pki = os.path.join(tmp, "tls")
                for step in (["init"], ["collector", "collector.example.org"]):
                    subprocess.run([os.path.join(SOURCE, "deploy/pki.sh"), pki] + step, check=True,
                                   capture_output=True)
                flagfile = os.path.join(tmp, "collector.flags")
                open(flagfile, "w", encoding="utf-8").write(flags.replace("/etc/auscult/tls/", pki + "/"))
                r = subprocess.run([os.path.join(BIN, "auscult-collector"), "--flagfile=" + flagfile, "--check_config"],
                                   capture_output=True, text=True)
                if r.returncode != 0 or "configuration OK" not in r.stdout:
                    finding(f"{name}: the ConfigMap's flags fail --check_config: {r.stderr.strip()}")
                flags_checked = True
        for mount_path, m in mounts.items():
            if mount_path == "/etc/auscult/collector.flags" and "--flagfile=/etc/auscult/collector.flags" not in \
                    entry.get("collector", {}).get("CMD", ""):
                finding("the image's default flag file is not where the Deployment mounts it")
    for svc in by_kind.get("Service", []):
        sel = svc["spec"].get("selector", {})
        if any(labels.get(k) != v for k, v in sel.items()):
            continue
        container_ports = {p["name"] for c in pod["containers"] for p in c.get("ports", [])}
        for p in svc["spec"]["ports"]:
            if isinstance(p["targetPort"], str) and p["targetPort"] not in container_ports:
                finding(f"Service {svc['metadata']['name']}: targetPort {p['targetPort']} is no port of {name}")
for svc in by_kind.get("Service", []):
    sel = svc["spec"].get("selector", {})
    if not any(all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())
               for d in deployments):
        finding(f"Service {svc['metadata']['name']} selects no pod of the Deployments")
if not flags_checked:
    finding("no container reads a flag file from the ConfigMap")

kubectl = shutil.which("kubectl")
if kubectl:
    r = subprocess.run([kubectl, "kustomize", kdir], capture_output=True, text=True)
    if r.returncode != 0:
        finding(f"kubectl kustomize: {r.stderr.strip()}")
    else:
        print(f"kubectl kustomize rendered {r.stdout.count('kind:')} objects")
else:
    print("(no kubectl here: the manifests were checked by this script only)")

print(f"{len(stages)} Dockerfile stages, {len(documents)} Kubernetes objects, {len(findings)} findings")
sys.exit(1 if findings else 0)
