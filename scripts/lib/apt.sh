# shellcheck shell=bash
# Installs missing Debian packages for the project's scripts (sourced, not run).

# need_commands CMD:PACKAGE... — installs PACKAGE with apt-get for every CMD not on PATH.
# Only root can install; anyone else gets the apt-get command to run and a failure.
need_commands() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  apt_install "${missing[@]}"
}

# apt_install PACKAGE... — apt-get install as root, updating the package lists once per run.
apt_install() {
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing packages: $*; install them first (sudo apt-get install -y $*)" >&2
    return 1
  fi
  echo "==> apt-get install $*" >&2
  if [[ -z ${APT_UPDATED:-} ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}
