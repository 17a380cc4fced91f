#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: QEMU (the oracle and speed peer), OpenSBI
# (real M-mode firmware), e2fsprogs and xz (guest disk and modules), the
# bare-metal RISC-V toolchain, dtc, Chromium (browser tests). Installed only when missing;
# skipped without root/apt.
set -euo pipefail
pkgs=(qemu-system-misc opensbi e2fsprogs xz-utils gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf device-tree-compiler chromium)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-deps: missing ${missing[*]} and cannot apt-get here; tests that need them will say so" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
