#!/bin/sh
# livestyle GPU benchmark kit. Usage: ./run.sh [--quick] [--sizes 256,512] [--runs N] [--json FILE] ...
# Unpacks the Node runtime and Dawn (first run only), finds the Vulkan driver, prints the adapter,
# runs the GPU benchmark (all presets; image and video mode; 256 px to 1080p; warm-up, then medians)
# and writes one JSON file (default: ./livestyle-gpu-bench.json). ./run.sh --help lists the options.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

unpack() { # $1.xz -> $1, once
  [ -f "$1" ] && return 0
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1.xz" >"$1.part"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1.xz" "$1.part"
  else
    echo "run.sh: xz or python3 is needed to unpack $1.xz" >&2
    exit 1
  fi
  mv "$1.part" "$1"
}
unpack "$here/node"
chmod +x "$here/node"
unpack "$here/node_modules/webgpu/dist/linux-x64/dawn.node"
unpack "$here/data/photo.ppm"

# Dawn needs glibc >= 2.34.
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed 's/^glibc //' || true)
case "$glibc" in
  2.[0-9] | 2.[0-2][0-9] | 2.3[0-3]) echo "run.sh: glibc $glibc is older than the 2.34 Dawn needs" >&2 ;;
esac

# NVIDIA's Vulkan driver manifest may sit outside the loader's default search path.
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -z "${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/local/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
    /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then
      # VK_DRIVER_FILES for loaders >= 1.3.207, VK_ICD_FILENAMES for older ones.
      VK_DRIVER_FILES="$f"
      VK_ICD_FILENAMES="$f"
      export VK_DRIVER_FILES VK_ICD_FILENAMES
      echo "run.sh: Vulkan driver manifest $f"
      break
    fi
  done
fi

# Dawn loads libvulkan.so.1 at run time; use the machine's loader, else the one the kit carries.
has_loader=no
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu; do
  [ -e "$d/libvulkan.so.1" ] && has_loader=yes
done
if [ $has_loader = no ]; then
  LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi

exec "$here/node" "$here/bench.mjs" --models "$here/models" --photo "$here/data/photo.ppm" --style "$here/data/style.ppm" "$@"
