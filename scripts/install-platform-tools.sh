#!/usr/bin/env bash
# Installs what `npm run test:platforms` needs on a Debian machine (as root):
# zig and cargo-zigbuild (PyPI) for cross linking, qemu-user and the arm64
# glibc for running the arm64 build, musl for loading the musl builds, perl
# and make for building OpenSSL from source, and the Rust targets. Each step is skipped when its tool is already there.
set -euo pipefail

need_apt=()
command -v qemu-aarch64 >/dev/null || need_apt+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need_apt+=(libc6-arm64-cross libstdc++6-arm64-cross)
command -v musl-gcc >/dev/null || need_apt+=(musl musl-tools)
command -v readelf >/dev/null || need_apt+=(binutils)
# The vendored OpenSSL (openssl-src) runs OpenSSL's Configure (perl, with
# IPC::Cmd, which perl-base lacks) and make.
perl -MIPC::Cmd -e 1 2>/dev/null || need_apt+=(perl)
command -v make >/dev/null || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
# The arm64 musl runtime comes from Debian's arm64 architecture.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get update -qq
fi
python3 -m ziglang version >/dev/null 2>&1 || python3 -m pip install -q ziglang
cargo zigbuild --help >/dev/null 2>&1 || python3 -m pip install -q cargo-zigbuild
rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-gnu aarch64-unknown-linux-musl >/dev/null
