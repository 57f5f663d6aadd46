#!/usr/bin/env python3
# Checks deploy/kubernetes/leaktrace-agent.yaml where no cluster is at hand (kubectl's
# --dry-run=client still asks a server for the API's types): the DaemonSet against
# daemonset.schema.json (apps/v1's fields, typos refused), and what the schema cannot say:
# the selector matches the pods' labels, every mount has its volume, the agent listens on the
# named metrics port, it sees the node's processes with the capabilities leaktrace needs, and
# deploy/prometheus/fleet/kubernetes-scrape.yml keeps exactly these pods.
# Usage: check_daemonset.py MANIFEST SCHEMA SCRAPE_CONFIG; exit 0, or 1 with a line per fault.
import json
import sys

import jsonschema
import yaml


def faults_of(docs, schema, scrape):
    faults = []
    daemonsets = [d for d in docs if d and d.get("kind") == "DaemonSet"]
    if len(daemonsets) != 1:
        return ["expected one DaemonSet, found %d" % len(daemonsets)]
    ds = daemonsets[0]
    for e in jsonschema.Draft7Validator(schema).iter_errors(ds):
        faults.append("%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message))
    if faults:
        return faults
    namespaces = {d["metadata"]["name"] for d in docs if d and d.get("kind") == "Namespace"}
    ns = ds["metadata"].get("namespace", "default")
    if ns not in namespaces:
        faults.append("namespace %s is not created by the manifest" % ns)
    labels = ds["spec"]["template"]["metadata"]["labels"]
    for k, v in ds["spec"]["selector"]["matchLabels"].items():
        if labels.get(k) != v:
            faults.append("selector %s=%s does not match the pods' labels" % (k, v))
    pod = ds["spec"]["template"]["spec"]
    if not pod.get("hostPID"):
        faults.append("hostPID is not true: the agent would see its own pod's processes only")
    volumes = {v["name"] for v in pod.get("volumes", [])}
    agent = pod["containers"][0]
    for m in agent.get("volumeMounts", []):
        if m["name"] not in volumes:
            faults.append("volumeMount %s has no volume" % m["name"])
    args = agent.get("args", [])
    if args[:1] != ["agent"] or "--listen" not in args:
        faults.append("args %s: not `leaktrace agent --listen ADDR:PORT`" % args)
        return faults
    listen = args[args.index("--listen") + 1]
    ports = {p.get("name"): p["containerPort"] for p in agent.get("ports", [])}
    if "metrics" not in ports or not listen.endswith(":%d" % ports["metrics"]):
        faults.append("--listen %s is not the metrics port %s" % (listen, ports.get("metrics")))
    env = {e["name"] for e in agent.get("env", [])}
    for var in [w[2:-1] for w in listen.split(":") if w.startswith("$(")]:
        if var not in env:
            faults.append("--listen uses $(%s), which env does not define" % var)
    caps = set(agent["securityContext"].get("capabilities", {}).get("add", []))
    for need in ("BPF", "PERFMON", "SYS_PTRACE", "CHECKPOINT_RESTORE"):
        if need not in caps:
            faults.append("capability %s is not added" % need)
    # The scrape job keeps these pods: its namespace, their label, the port's name.
    job = scrape["scrape_configs"][0]
    if job["kubernetes_sd_configs"][0]["namespaces"]["names"] != [ns]:
        faults.append("kubernetes-scrape.yml looks in other namespaces than %s" % ns)
    keeps = {r["source_labels"][0]: r["regex"] for r in job["relabel_configs"]
             if r.get("action") == "keep"}
    for k, v in labels.items():
        meta = "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in k)
        if meta in keeps and keeps[meta] != v:
            faults.append("kubernetes-scrape.yml keeps %s=%s, the pods are %s" % (k, keeps[meta], v))
    if not any(k.startswith("__meta_kubernetes_pod_label_") for k in keeps):
        faults.append("kubernetes-scrape.yml keeps pods by none of their labels")
    if keeps.get("__meta_kubernetes_pod_container_port_name") != "metrics":
        faults.append("kubernetes-scrape.yml does not keep the port named metrics")
    return faults


def main():
    manifest, schema_path, scrape_path = sys.argv[1:4]
    with open(manifest) as f:
        docs = list(yaml.safe_load_all(f))
    with open(schema_path) as f:
        schema = json.load(f)
    with open(scrape_path) as f:
        scrape = yaml.safe_load(f)
    faults = faults_of(docs, schema, scrape)
    for fault in faults:
        print("%s: %s" % (manifest, fault))
    if faults:
        return 1
    print("%s: a valid DaemonSet for the agent" % manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
