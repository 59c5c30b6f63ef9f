#!/usr/bin/env bash
# Vendor the browser libraries the web UI uses into src/tenure/web/static/vendor/.
# Pinned versions, fetched with `npm pack` from the npm registry and checked against the
# registry's SHA-512 integrity; nothing is downloaded when Tenure runs.
set -euo pipefail

ECHARTS_VERSION=6.1.0
ECHARTS_INTEGRITY="sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA=="
HTMX_VERSION=2.0.11
HTMX_INTEGRITY="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/src/tenure/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch <package> <version> <integrity>: unpack the tarball into $work/<package>
    local name="$1" version="$2" integrity="$3" tarball actual
    tarball="$(cd "$work" && npm pack --silent "$name@$version")"
    actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
    if [ "$actual" != "$integrity" ]; then
        echo "integrity mismatch for $name@$version: $actual" >&2
        exit 1
    fi
    mkdir -p "$work/$name"
    tar -xzf "$work/$tarball" -C "$work/$name" --strip-components=1
}

fetch echarts "$ECHARTS_VERSION" "$ECHARTS_INTEGRITY"
fetch htmx.org "$HTMX_VERSION" "$HTMX_INTEGRITY"

mkdir -p "$dest"
install -m 0644 "$work/echarts/dist/echarts.min.js" "$dest/echarts.min.js"
install -m 0644 "$work/echarts/LICENSE" "$dest/echarts.LICENSE"
install -m 0644 "$work/echarts/NOTICE" "$dest/echarts.NOTICE"
install -m 0644 "$work/echarts/licenses/LICENSE-d3" "$dest/echarts.LICENSE-d3"
install -m 0644 "$work/htmx.org/dist/htmx.min.js" "$dest/htmx.min.js"
install -m 0644 "$work/htmx.org/LICENSE" "$dest/htmx.LICENSE"
cat > "$dest/VERSIONS" <<VERSIONS
echarts $ECHARTS_VERSION $ECHARTS_INTEGRITY
htmx.org $HTMX_VERSION $HTMX_INTEGRITY
VERSIONS
echo "vendored echarts $ECHARTS_VERSION and htmx.org $HTMX_VERSION into $dest"
