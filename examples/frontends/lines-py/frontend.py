#!/usr/bin/env python3
"""A kiln frontend written in Python, speaking kiln's frontend protocol 1 (JSON lines on
stdin/stdout, see docs/frontend-protocol.md). It builds images from a tiny line language:

    # syntax=./frontend.py
    FROM busybox:latest
    ENV GREETING=hello
    WRITE /hello.txt Hello from Python
    RUN echo "$GREETING" > /greeting
    CMD cat /hello.txt

It returns a plain definition (ops name their inputs by index; kiln computes digests).
"""
import base64
import json
import sys

_next_id = 0


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def call(method, params):
    """One request to kiln, answered on stdin."""
    global _next_id
    _next_id += 1
    send({"id": _next_id, "method": method, "params": params})
    answer = json.loads(sys.stdin.readline())
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


def fail(message):
    send({"type": "error", "message": message})
    sys.exit(0)


def main():
    hello = json.loads(sys.stdin.readline())
    if hello.get("protocol") != 1:
        fail("this frontend speaks protocol 1")
    opts = hello["opts"]
    platform = opts["platforms"][0]
    text = base64.b64decode(call("readFile", {"input": "dockerfile", "path": opts["filename"]})["data"]).decode()

    ops, env, history = [], [], []
    config = {"architecture": platform["architecture"], "os": platform["os"], "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}

    def add(op, name):
        entry = {"op": op, "metadata": {"description": {"llb.customname": name}}}
        if ops:
            entry["inputs"] = [{"op": len(ops) - 1, "index": 0}]
        if op["type"] == "source":
            entry["platform"] = platform
        ops.append(entry)

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            img = call("resolveImageConfig", {"ref": rest, "platform": platform})
            config = dict(img["config"], history=list(img["config"].get("history") or []))
            env = list(img["config"]["config"].get("Env") or [])
            add({"type": "source", "identifier": "docker-image://" + img["ref"]}, "FROM " + rest)
        elif not ops:
            fail("%s:%d: the first instruction must be FROM" % (opts["filename"], n))
        elif word == "ENV":
            key = rest.split("=", 1)[0]
            env = [e for e in env if not e.startswith(key + "=")] + [rest]
            history.append({"created_by": "ENV " + rest, "empty_layer": True})
        elif word == "WRITE":
            path, _, content = rest.partition(" ")
            data = base64.b64encode((content + "\n").encode()).decode()
            add({"type": "file", "actions": [{"input": 0, "secondaryInput": -1, "output": 0,
                 "action": {"type": "mkfile", "path": path, "mode": 0o644, "data": data}}]}, "WRITE " + path)
            history.append({"created_by": "WRITE " + path})
        elif word == "RUN":
            add({"type": "exec", "meta": {"args": ["/bin/sh", "-c", rest], "env": env, "cwd": "/", "user": ""},
                 "mounts": [{"input": 0, "dest": "/", "output": 0, "type": "bind"}],
                 "network": "sandbox", "security": "sandbox"}, "RUN " + rest)
            history.append({"created_by": "RUN " + rest})
        elif word == "CMD":
            config["config"]["Cmd"] = ["/bin/sh", "-c", rest]
            history.append({"created_by": "CMD " + rest, "empty_layer": True})
        else:
            call("warn", {"message": "%s:%d: unknown instruction %s (skipped)" % (opts["filename"], n, word)})
    if not ops:
        fail("%s: nothing to build (no FROM)" % opts["filename"])
    config["config"]["Env"] = env
    config["history"] = config.get("history", []) + history
    send({"type": "result", "definition": {"ops": ops, "output": {"op": len(ops) - 1, "index": 0}}, "config": config})


main()
