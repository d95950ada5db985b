#!/bin/sh
# Fetches the TL schema the inspector embeds (inspector/tl/api.tl and
# inspector/tl/mtproto.tl) and the layer-229 schema of the Telethon fixtures
# (tests/fixtures/telethon/api.tl), from Pyrogram-fork source releases on
# PyPI, pinned. See inspector/tl/README.md for why these releases.
#
# Pyrogram keeps the TL text as Telegram publishes it, except that the lines
# it parses by hand are commented out ("// boolFalse#bc799737 = Bool;  //
# Parsed manually"). Those lines are put back as they were, and
# gzip_packed's `packed_data:string` is spelled `bytes` as in Telegram's
# mtproto.tl (the id is the same: TL hashes `bytes` as `string`); nothing
# else is changed.
#
# Usage: inspector/tl/fetch-schema.sh   (from the repository root; needs pip)
set -eu

BUILTIN=kurigram==2.2.21   # LAYER 224: no Pyrogram fork released layer 223
TELETHON=kurigram==2.2.26  # LAYER 229, the layer of telethon==1.45.0

root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The Pyrogram sources of one release, unpacked; prints their folder.
fetch() {
    mkdir -p "$tmp/$1"
    pip download --quiet --no-deps --no-binary :all: --dest "$tmp/$1" "$1" >&2
    tar -xzf "$tmp/$1"/*.tar.gz -C "$tmp/$1"
    echo "$tmp/$1"/*/compiler/api/source
}

restore() {
    sed -E \
        -e 's#^// ([a-zA-Z_.0-9]+\#[0-9a-f]+ .*;) +// (Parsed manually|Not used)$#\1#' \
        -e 's#^(gzip_packed\#3072cfa1 packed_data:)string#\1bytes#' "$@"
}

src=$(fetch "$BUILTIN")
grep -q '^// LAYER 224$' "$src/main_api.tl"
restore "$src/main_api.tl" > "$root/inspector/tl/api.tl"
restore "$src/auth_key.tl" "$src/sys_msgs.tl" > "$root/inspector/tl/mtproto.tl"

src=$(fetch "$TELETHON")
grep -q '^// LAYER 229$' "$src/main_api.tl"
mkdir -p "$root/tests/fixtures/telethon"
restore "$src/main_api.tl" > "$root/tests/fixtures/telethon/api.tl"
restore "$src/auth_key.tl" "$src/sys_msgs.tl" > "$root/tests/fixtures/telethon/mtproto.tl"
