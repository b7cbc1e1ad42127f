#!/usr/bin/env bash
# tests/ops/test_compose.sh -- docker-compose.yml, Dockerfile, .dockerignore.
# No Docker engine runs here, so: the structure is checked statically
# (tests/ops/check_compose.py: services, depends_on health conditions, env,
# volumes; the Dockerfile's build steps against README.md's quick start),
# each of a table of breakages must be caught, and the init service's own
# command line is run for real against moto (its hosts and volumes mapped to
# this machine) to prove it leaves a complete config where the daemon reads it.
source "$(dirname "$0")/lib.sh"
cd "$OPS_ROOT" || exit 1
HERE=$OPS_ROOT/tests/ops

python3 -c 'import yaml' 2>/dev/null || { bad "python3 yaml" "PyYAML missing"; finish; }

echo "== the files as committed"
expect "compose and Dockerfile checks pass" python3 "$HERE/check_compose.py" .
python3 "$HERE/check_compose.py" . | grep -E '^ +note:' || true
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  expect "docker compose config" docker compose -f docker-compose.yml config -q
else
  echo "  (note: no 'docker compose' plugin here; YAML structure checked by check_compose.py only)"
fi

echo "== each breakage is caught"
# name | file | old | new | expected message
mutations=(
  "non-free LocalStack service|docker-compose.yml|SERVICES: s3,sqs,iam|SERVICES: s3,sqs,iam,lambda|exactly s3,sqs,iam"
  "unpinned LocalStack|docker-compose.yml|localstack/localstack:3.8.1|localstack/localstack:latest|pinned image"
  "init does not wait for health|docker-compose.yml|      localstack:\n        condition: service_healthy\n    environment:\n      AWS_ACCESS_KEY_ID: test\n      AWS_SECRET_ACCESS_KEY: test\n      AWS_DEFAULT_REGION|      localstack:\n        condition: service_started\n    environment:\n      AWS_ACCESS_KEY_ID: test\n      AWS_SECRET_ACCESS_KEY: test\n      AWS_DEFAULT_REGION|init: waits for a healthy"
  "daemon does not wait for init|docker-compose.yml|condition: service_completed_successfully|condition: service_started|completed init"
  "config mounted writable|docker-compose.yml|- config:/config:ro|- config:/config|read-only"
  "short stop grace|docker-compose.yml|stop_grace_period: 90s|stop_grace_period: 30s|stop_grace_period"
  "runs as root|Dockerfile|USER owls-q4d|USER root|non-root user"
  "tests in the image build|Dockerfile|RUN make\n|RUN make check\n|README's build commands"
  "build step missing|Dockerfile|RUN make deps\n||README's build commands"
  "compiler in the runtime image|Dockerfile|apt-get install -y -qq --no-install-recommends ca-certificates \\\\\n &&|apt-get install -y -qq --no-install-recommends ca-certificates gcc \\\\\n &&|no build tools"
  "build tree in the context|.dockerignore|build-*\n||.dockerignore"
)
for row in "${mutations[@]}"; do
  IFS='|' read -r name file old new msg <<<"$row"
  copy=$OPS_TMP/mut
  rm -rf "$copy" && mkdir -p "$copy/systemd" "$copy/scripts"
  cp docker-compose.yml Dockerfile .dockerignore README.md "$copy/" && cp systemd/owls-q4d.sysusers "$copy/systemd/"
  if ! python3 "$HERE/mutate.py" "$copy/$file" "$old" "$new"; then
    bad "$name" "could not apply the mutation (the file changed: update the table)"
    continue
  fi
  out=$(python3 "$HERE/check_compose.py" "$copy" 2>&1)
  rc=$?
  if ((rc == 1)) && grep "FAIL" <<<"$out" | grep -qF -- "$msg"; then ok "caught: $name"; else bad "caught: $name" "rc=$rc, no FAIL line with '$msg'"; fi
done

echo "== the init service's command, run for real against moto"
if ! command -v moto_server >/dev/null || ! command -v aws >/dev/null; then
  bad "moto_server and aws" "not on PATH"
  finish
fi
start_moto || { bad "moto starts" "see above"; finish; }
# the compose command with its container names mapped: localstack:4566 -> moto,
# /scripts -> ./scripts, /config -> a scratch volume
mkdir -p "$OPS_TMP/config"
cmd=$(python3 - "$MOTO_EP" "$OPS_ROOT/scripts" "$OPS_TMP/config" <<'PY'
import sys, yaml
ep, scripts, config = sys.argv[1:4]
init = yaml.safe_load(open("docker-compose.yml"))["services"]["init"]
assert init["entrypoint"] == ["/bin/bash", "-c"], init["entrypoint"]
(cmd,) = init["command"]
print(cmd.replace("http://localstack:4566", ep)
         .replace("/scripts/", scripts + "/").replace("/config/", config + "/"))
PY
)
env=()
while IFS= read -r kv; do env+=("$kv"); done < <(python3 -c '
import yaml
for k, v in yaml.safe_load(open("docker-compose.yml"))["services"]["init"]["environment"].items():
    print(f"{k}={v}")')
if env -i PATH="$PATH" HOME="$OPS_TMP" "${env[@]}" /bin/bash -c "$cmd" >"$OPS_TMP/init.out" 2>"$OPS_TMP/init.err"; then
  ok "init command exits 0 (with only the compose environment)"
else
  bad "init command" "$(tail -n 5 "$OPS_TMP/init.err")"
fi
conf=$OPS_TMP/config/owls-q4.conf
[[ -f $conf && ! -e $conf.new ]] && ok "config in place, no temporary left" || bad "config file" "$(ls -la "$OPS_TMP/config")"
expect "the daemon's config has exactly SPEC §7's keys" python3 "$HERE/conf_keys.py" --check "$conf"
cmp -s "$conf" "$OPS_TMP/init.out" && ok "init prints the config it wrote (visible in compose logs)" || bad "init output"
[[ $(python3 "$HERE/conf_keys.py" --get "$conf" s3.addressing) == path ]] && ok "addressing = path for the emulator" || bad "addressing"
finish
