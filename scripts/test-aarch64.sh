#!/usr/bin/env bash
# Cross-compiles libquant and its unit tests for aarch64 (Debian's
# aarch64-linux-gnu toolchain) and runs the unit tests under qemu-user: the
# portable build (every SIMD file guarded, the scalar references in use) on a
# CPU without x86 extensions. The arm64 libraries come from Debian's arm64
# packages, unpacked into a sysroot under the cache (not installed: several
# -dev packages cannot be installed for two architectures at once).
#
#   bash scripts/test-aarch64.sh [CATCH2 TEST SPEC...]
#
# Needs network access on the first run (apt); the sysroot and the build are
# cached in $LLM_QUANTIZE_CACHE (default ~/.cache/llm-quantize) and build/aarch64.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
sysroot=$cache/sysroot-arm64
build=$root/build/aarch64
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Host tools: the cross compiler (with arm64 libc and libstdc++) and qemu-user.
if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu qemu-user
fi

# The arm64 libraries libquant links, with their run-time dependencies.
if [ ! -f "$sysroot/.complete" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
  dev="libopenblas-dev libopenblas-pthread-dev liblapacke-dev libsimdjson-dev libsentencepiece-dev libicu-dev
       libre2-dev libabsl-dev zlib1g-dev libssl-dev libcurl4-openssl-dev"
  # The toolchain brings libc and libstdc++; one BLAS (OpenBLAS, pthreads) is enough.
  skip='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libgcc-s1|libstdc\+\+6|gcc-12-base|libcrypt1|libcrypt-dev|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|rpcsvc-proto|libatlas.*|libblis.*|libopenblas0-openmp|libopenblas0-serial|libopenblas-openmp-dev|libopenblas-serial-dev|libblas3|libblas-dev|liblapack3|liblapack-dev|libtmglib-dev|icu-devtools)$'
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
           --no-enhances $(for p in $dev; do echo "$p:arm64"; done) 2>/dev/null |
         grep -E '^[a-z0-9].*:arm64$' | sed 's/:arm64$//' | sort -u | grep -Ev "$skip")
  debs=$(mktemp -d)
  chmod 777 "$debs"  # apt's download user writes there
  (cd "$debs" && apt-get download -qq $(for p in $pkgs; do echo "$p:arm64"; done))
  rm -rf "$sysroot" && mkdir -p "$sysroot"
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$sysroot"; done
  rm -rf "$debs"
  # Absolute symlinks inside the packages point at the host's /usr; make them relative to the sysroot.
  find "$sysroot" -type l | while read -r l; do
    t=$(readlink "$l")
    case "$t" in /*) ln -sfn "$sysroot$t" "$l" ;; esac
  done
  touch "$sysroot/.complete"
fi
# What update-alternatives would have linked: OpenBLAS as the BLAS/LAPACK, with its pkg-config names.
lib=$sysroot/usr/lib/aarch64-linux-gnu
for f in libblas.so.3 liblapack.so.3 libopenblas.so libopenblas.so.0; do ln -sf "openblas-pthread/$f" "$lib/$f"; done
ln -sf ../openblas-pthread/pkgconfig/openblas.pc "$lib/pkgconfig/openblas.pc"
ln -sf ../openblas-pthread/pkgconfig/lapack-openblas.pc "$lib/pkgconfig/lapack.pc"
ln -sf ../openblas-pthread/pkgconfig/blas-openblas.pc "$lib/pkgconfig/blas.pc"

cat > "$cache/aarch64-toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# arm64 libraries from the sysroot; arch-independent headers and CMake packages (Catch2, Eigen) from the host.
set(CMAKE_FIND_ROOT_PATH $sysroot /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_CXX_FLAGS_INIT "-isystem $sysroot/usr/include/aarch64-linux-gnu -isystem $sysroot/usr/include")
set(CMAKE_C_FLAGS_INIT "-isystem $sysroot/usr/include/aarch64-linux-gnu -isystem $sysroot/usr/include")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L$sysroot/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,$sysroot/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,$sysroot/usr/lib/aarch64-linux-gnu/openblas-pthread -Wl,-rpath-link,$sysroot/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "\${CMAKE_EXE_LINKER_FLAGS_INIT}")
set(CMAKE_CROSSCOMPILING_EMULATOR env;LD_LIBRARY_PATH=$sysroot/lib/aarch64-linux-gnu:$sysroot/usr/lib/aarch64-linux-gnu:$sysroot/usr/lib/aarch64-linux-gnu/openblas-pthread:$build/libquant;qemu-aarch64;-L;/usr/aarch64-linux-gnu)
EOF

export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$sysroot/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$sysroot
rm -f "$build/CMakeCache.txt"  # the toolchain's *_INIT flags are read on a fresh configure only
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$cache/aarch64-toolchain.cmake" \
  -DLIBQUANT_BUILD_APPS=ON -DLIBQUANT_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --target libquant_unit_tests -j "$(nproc)"

export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
export LD_LIBRARY_PATH=$sysroot/lib/aarch64-linux-gnu:$sysroot/usr/lib/aarch64-linux-gnu:$sysroot/usr/lib/aarch64-linux-gnu/openblas-pthread:$build/libquant
echo "aarch64 unit tests under $(qemu-aarch64 --version | head -1)"
# [backend] runs the CPU backend only (no CUDA plugin for aarch64 here).
qemu-aarch64 "$build/tests/libquant_unit_tests" --backend cpu "$@"
