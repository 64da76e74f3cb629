#!/usr/bin/env bash
# Installs what kiln's build, demo and tests need, only what is missing: Debian packages
# (git, runc, crun, docker-registry, skopeo, umoci, busybox-static, attr, bzip2, xz-utils, openssh-client, python3, openssl,
# qemu-user-static; gcc and libc6-dev for the seccomp probe, e2fsprogs for the full-disk test; pigz and zstd for the bench floors), the arm64 busybox-static binary for multi-platform tests (.cache/), and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pair in git:git runc:runc crun:crun docker-registry:docker-registry skopeo:skopeo umoci:umoci busybox-static:/bin/busybox attr:setfattr bzip2:bzip2 xz-utils:xz openssh-client:ssh-agent python3:/usr/bin/python3 openssl:openssl qemu-user-static:qemu-aarch64-static gcc:gcc e2fsprogs:mkfs.ext4 pigz:pigz zstd:zstd; do
  pkg=${pair%%:*}; bin=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then missing+=("$pkg"); fi
done
dpkg -s libc6-dev >/dev/null 2>&1 || missing+=(libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Deno runs the same source in a portability test. Not in package.json: npm 11 leaves its
# optional platform packages out of the lock file, which then fails `npm ci`.
if [ ! -x node_modules/.bin/deno ]; then
  npm install --no-save --no-audit --no-fund deno@2.9.6
fi
# Multi-platform tests build an arm64 base image from Debian's arm64 busybox-static (run under
# QEMU emulation): the binary is taken from the package, nothing is installed for arm64.
if [ ! -x .cache/busybox-arm64/busybox ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get update -qq
  fi
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq busybox-static:arm64 2>/dev/null || { apt-get update -qq && apt-get download -qq busybox-static:arm64; })
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
  mkdir -p .cache/busybox-arm64
  cp "$tmp/x/bin/busybox" .cache/busybox-arm64/busybox
  rm -rf "$tmp"
fi
