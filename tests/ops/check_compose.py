#!/usr/bin/env python3
"""check_compose.py ROOT -- static checks of docker-compose.yml, Dockerfile and
.dockerignore under ROOT (no Docker engine runs here). Prints one line per
check, "check_compose: N passed, N failed" last; exit 1 on any failure.

* compose: localstack (pinned image, free services s3,sqs,iam only, a
  healthcheck), init (waits for a healthy localstack, runs
  scripts/deploy-local.sh against it, writes the config into a shared
  volume) and owls-q4d (built by the Dockerfile, waits for both with health /
  completion conditions, reads that config read-only, AWS env, no
  privileges, a stop grace period above shutdown_grace_seconds);
* Dockerfile: a Debian bookworm build stage whose build commands are the
  README quick start's (tests excluded), a bookworm-slim runtime stage with
  runtime libraries only and a non-root user named as in sysusers.d;
* .dockerignore keeps build trees, .git and node_modules out of the context.
"""
import os
import re
import shlex
import sys

import yaml

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
TEST_TARGETS = {"check", "unit", "asan", "tsan", "lint", "fuzz", "fuzz-build", "integration",
                "valgrind", "bench", "ops-test"}
FREE_SERVICES = {"s3", "sqs", "iam"}
passed = failed = 0


def check(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok   {name}")
    else:
        failed += 1
        print(f"  FAIL {name}" + (f": {detail}" if detail else ""))
    return ok


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def env_of(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
    return {k: ("" if v is None else str(v)) for k, v in e.items()}


def depends(svc):
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        return {k: "service_started" for k in d}
    return {k: (v or {}).get("condition", "service_started") for k, v in d.items()}


def seconds(s):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(s))
    return None if not m or not any(m.groups()) else int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def as_cmd(x):
    return " ".join(x) if isinstance(x, list) else str(x or "")


def make_cmd(cmd):
    """'make deps' -> ('deps',); 'make' -> (); None if not a make call."""
    words = shlex.split(cmd)
    if not words or words[0] != "make":
        return None
    return tuple(w for w in words[1:] if not w.startswith("-") and "=" not in w)


def readme_build_commands():
    text = read("README.md")
    m = re.search(r"^#+\s*Quick start\s*$(.*?)^```(?:sh|bash|shell)?\s*$(.*?)^```", text, re.M | re.S | re.I)
    if not check(m is not None, "README.md has a Quick start code block"):
        return []
    cmds = [re.sub(r"\s+#.*$", "", l).strip() for l in m.group(2).splitlines()]
    cmds = [c for c in cmds if c and not c.startswith("#")]
    build = [c for c in cmds if make_cmd(c) is not None and not (set(make_cmd(c)) & TEST_TARGETS)]
    if not any(make_cmd(c) != ("deps",) for c in build):
        # The quick start only says `make check` (build + every test); a
        # container build must not run the tests (no moto there): `make`.
        print(f"    note: README quick start {cmds} has no build-only command; expecting `make`")
        build.append("make")
    return build


def dockerfile_stages(text):
    text = re.sub(r"\\\n", " ", text)
    stages, cur = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            cur = {"from": m.group(1), "name": m.group(2), "lines": []}
            stages.append(cur)
        elif cur is not None:
            cur["lines"].append((word, rest.strip()))
    return stages


def main():
    # ---------------------------------------------------------------- compose
    compose = yaml.safe_load(read("docker-compose.yml"))
    svcs = compose.get("services", {})
    check(set(svcs) >= {"localstack", "init", "owls-q4d"}, "compose: services localstack, init, owls-q4d", list(svcs))
    ls, init, d = svcs.get("localstack", {}), svcs.get("init", {}), svcs.get("owls-q4d", {})

    img = ls.get("image", "")
    check(img.startswith("localstack/localstack:") and not img.endswith(":latest"), "localstack: pinned image", img)
    services = {s.strip() for s in env_of(ls).get("SERVICES", "").split(",") if s.strip()}
    check(services == FREE_SERVICES, "localstack: SERVICES is exactly s3,sqs,iam (free services)", services)
    hc = ls.get("healthcheck", {})
    check("_localstack/health" in as_cmd(hc.get("test")), "localstack: healthcheck on /_localstack/health", hc)
    check(env_of(ls).get("SQS_ENDPOINT_STRATEGY") == "path", "localstack: queue URLs by path (reachable from other containers)")
    check(all(str(p).startswith("127.0.0.1:") for p in ls.get("ports", [])), "localstack: published on loopback only", ls.get("ports"))

    check(depends(init).get("localstack") == "service_healthy", "init: waits for a healthy localstack", depends(init))
    icmd = as_cmd(init.get("entrypoint")) + " " + as_cmd(init.get("command"))
    check("deploy-local.sh" in icmd and "--endpoint-url http://localstack:4566" in icmd,
          "init: runs scripts/deploy-local.sh --endpoint-url http://localstack:4566", icmd)
    ivols = [str(v) for v in init.get("volumes", [])]
    check(any(v.startswith("./scripts:") for v in ivols), "init: mounts ./scripts", ivols)
    m = re.search(r">\s*(\S+)", icmd)
    conf_path = None
    if check(m is not None, "init: writes the printed config to a file", icmd):
        conf_path = m.group(1).removesuffix(".new")
        check(f"mv {m.group(1)} {conf_path}" in icmd or m.group(1) == conf_path,
              f"init: {conf_path} appears whole (written aside, then renamed)", icmd)
    ienv = env_of(init)
    check({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(ienv) and
          ("AWS_DEFAULT_REGION" in ienv or "AWS_REGION" in ienv), "init: AWS credentials and region", ienv)

    b = d.get("build", {})
    b = {"context": b} if isinstance(b, str) else b
    check(b.get("context") in (".", "./") and b.get("dockerfile", "Dockerfile") == "Dockerfile",
          "owls-q4d: built from ./Dockerfile", b)
    dep = depends(d)
    check(dep.get("localstack") == "service_healthy" and dep.get("init") == "service_completed_successfully",
          "owls-q4d: depends on healthy localstack and a completed init", dep)
    dcmd = as_cmd(d.get("command"))
    check(conf_path is not None and f"-c {conf_path}" in dcmd, f"owls-q4d: -c {conf_path}", dcmd)
    if conf_path:
        conf_dir = os.path.dirname(conf_path)
        ivol = next((v.split(":")[0] for v in ivols if v.split(":")[1] == conf_dir), None)
        dvols = [str(v) for v in d.get("volumes", [])]
        check(ivol is not None and f"{ivol}:{conf_dir}:ro" in dvols,
              f"owls-q4d: reads init's {conf_dir} volume read-only", dvols)
    denv = env_of(d)
    check({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(denv) and
          ("AWS_REGION" in denv or "AWS_DEFAULT_REGION" in denv) and denv.get("AWS_EC2_METADATA_DISABLED") == "true",
          "owls-q4d: AWS credentials, region, IMDS disabled", denv)
    check(not d.get("privileged") and d.get("cap_drop") in (["ALL"], "ALL") and
          "no-new-privileges:true" in d.get("security_opt", []) and d.get("read_only") is True,
          "owls-q4d: no privileges, capabilities dropped, read-only root")
    grace = seconds(d.get("stop_grace_period", "10s"))
    check(grace is not None and grace > 60, "owls-q4d: stop_grace_period > shutdown_grace_seconds (60 s)", d.get("stop_grace_period"))

    # ------------------------------------------------------------- Dockerfile
    stages = dockerfile_stages(read("Dockerfile"))
    check(len(stages) >= 2, "Dockerfile: multi-stage", len(stages))
    if len(stages) < 2:
        return
    build, runtime = stages[0], stages[-1]
    args = {m.group(1): m.group(2) for m in re.finditer(r"^ARG\s+(\w+)=(\S+)", read("Dockerfile"), re.M)}
    base = lambda s: re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), s["from"])
    check(base(build) == "debian:bookworm", "Dockerfile: build stage FROM debian:bookworm", base(build))
    check(base(runtime) == "debian:bookworm-slim", "Dockerfile: runtime stage FROM debian:bookworm-slim", base(runtime))
    runs = [c.strip() for w, r in build["lines"] if w == "RUN" for c in r.split("&&")]
    makes = [c for c in runs if make_cmd(c) is not None and "install" not in make_cmd(c)]
    want = readme_build_commands()
    check([make_cmd(c) for c in makes] == [make_cmd(c) for c in want],
          "Dockerfile: the build stage runs the README's build commands, in order", f"{makes} vs README {want}")

    rt = " ".join(r for w, r in runtime["lines"] if w == "RUN")
    check(not re.search(r"\b(build-essential|gcc|clang|make|[a-z0-9.+-]+-dev)\b", rt),
          "Dockerfile: runtime stage installs no build tools or -dev packages", rt)
    check("runtime-debs.txt" in rt, "Dockerfile: runtime libraries from runtime-debs.sh (what the programs link)")
    users = [r for w, r in runtime["lines"] if w == "USER"]
    sysusers = re.search(r"^u\s+(\S+)", read("systemd/owls-q4d.sysusers"), re.M).group(1)
    check(users and users[-1] not in ("root", "0") and users[-1].split(":")[0] == sysusers,
          f"Dockerfile: runs as the non-root user {sysusers} (as sysusers.d)", users)
    ep = [r for w, r in runtime["lines"] if w == "ENTRYPOINT"]
    check(ep and "/usr/bin/owls-q4d" in ep[-1], "Dockerfile: ENTRYPOINT owls-q4d", ep)
    copies = [r for w, r in runtime["lines"] if w == "COPY"]
    check(all("--from=" in c for c in copies), "Dockerfile: runtime stage copies only from the build stage", copies)

    # ---------------------------------------------------------- .dockerignore
    ign = {l.strip() for l in read(".dockerignore").splitlines() if l.strip() and not l.startswith("#")}
    check({".git", "build", "build-*", "**/node_modules"} <= ign, ".dockerignore: .git, build trees, node_modules", ign)


if __name__ == "__main__":
    try:
        main()
    except (OSError, KeyError, TypeError, AttributeError, yaml.YAMLError) as e:
        check(False, "files readable and well-formed", repr(e))
    print(f"check_compose: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
