#!/usr/bin/env bash
# runtime-debs.sh BIN... -- print (one line, sorted) the Debian packages that
# ship the shared libraries BIN links directly (its DT_NEEDED entries; apt
# brings their own dependencies), leaving out libc6, which every Debian system
# has. Used by the Dockerfile's runtime stage and tests/ops/test_terraform.sh.
set -euo pipefail
declare -A pkgs=()
for bin in "$@"; do
  declare -A path_of=()
  while read -r so path; do path_of[$so]=$path; done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
  while read -r so; do
    lib=${path_of[$so]:-}
    if [[ -z $lib ]]; then
      echo "runtime-debs: $bin: $so not found by ldd" >&2
      exit 1
    fi
    real=$(readlink -f "$lib")
    pkg=""
    # merged /usr: dpkg may know the file under /lib or /usr/lib, as linked or resolved
    for p in "$lib" "$real" "/usr$lib" "/usr$real" "${lib#/usr}" "${real#/usr}"; do
      if pkg=$(dpkg-query -S "$p" 2>/dev/null); then break; fi
    done
    if [[ -z $pkg ]]; then
      echo "runtime-debs: no package ships $lib" >&2
      exit 1
    fi
    pkg=${pkg%%:*}
    [[ $pkg == libc6 ]] || pkgs[$pkg]=1
  done < <(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}')
  unset path_of
done
printf '%s\n' "${!pkgs[@]}" | sort | tr '\n' ' ' | sed 's/ $/\n/'
