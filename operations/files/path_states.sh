#!/usr/bin/env bash
# The state of every file and folder the deploy manages on this host, in one command: one
# line per path, tab-separated:
#
#   PATH  KIND  MODE  USER  GROUP  SHA256
#
# KIND: file, directory, other (a link, a device...) or absent (nothing follows); MODE in
# octal as stat prints it; SHA256 of a file's content ("-" for the others).
set -euo pipefail

for path in "$@"; do
    if [ -L "$path" ]; then
        kind="other"
    elif [ -f "$path" ]; then
        kind="file"
    elif [ -d "$path" ]; then
        kind="directory"
    elif [ -e "$path" ]; then
        kind="other"
    else
        printf '%s\tabsent\n' "$path"
        continue
    fi
    digest=-
    if [ "$kind" = file ]; then
        digest=$(sha256sum -- "$path")
        digest=${digest%% *}
    fi
    printf '%s\t%s\t%s\t%s\n' "$path" "$kind" "$(stat -c $'%a\t%U\t%G' -- "$path")" "$digest"
done
