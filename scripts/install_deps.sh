#!/usr/bin/env bash
# install_deps.sh: installs the Debian 12 packages strata builds with (listed in packages.txt).
# Skips apt when every package is already installed; uses sudo when not run as root.
set -euo pipefail
here=$(dirname "$0")
# (a here-string ends in a newline, so read succeeds even when the file does not)
read -ra pkgs <<< "$(tr '\n' ' ' < "$here/packages.txt")"
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
