#!/usr/bin/env bash
# The state of every file and folder the deploy manages on this host, in one command: one
# line per path, tab-separated:
#
#   PATH  KIND  MODE  USER  GROUP  SHA256
#
# KIND: file, directory, other (a link, a device...) or absent (nothing follows); MODE in
# octal as stat prints it; SHA256 of a file's content ("-" for the others). One stat and one
# sha256sum for all the paths (not a pair of them per path).
set -euo pipefail

present=()
for path in "$@"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
        present+=("$path")
    else
        printf '%s\tabsent\n' "$path"
    fi
done
((${#present[@]})) || exit 0
declare -A kinds modes digests
files=()
while IFS=$'\t' read -r -d '' path type mode user group; do
    case $type in
        "regular file" | "regular empty file") kinds[$path]="file"; files+=("$path") ;;
        directory) kinds[$path]="directory" ;;
        *) kinds[$path]="other" ;;
    esac
    modes[$path]="$mode"$'\t'"$user"$'\t'"$group"
done < <(stat --printf '%n\t%F\t%a\t%U\t%G\0' -- "${present[@]}")
if ((${#files[@]})); then
    while IFS= read -r -d '' line; do
        digests[${line#*  }]=${line%%  *}
    done < <(sha256sum -z -- "${files[@]}")
fi
for path in "${present[@]}"; do
    if [ "${kinds[$path]}" = file ] && [ -z "${digests[$path]:-}" ]; then
        echo "path_states.sh: cannot read $path" >&2
        exit 1
    fi
    printf '%s\t%s\t%s\t%s\n' "$path" "${kinds[$path]}" "${modes[$path]}" "${digests[$path]:--}"
done
