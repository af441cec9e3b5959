#!/bin/sh
# The C dialect is .clang-format's: every file scripts/format-files.sh lists must be what
# clang-format-19 makes of it. Prints the files that differ and how to fix them.
set -u
root=${1:?usage: check-format.sh SOURCE_ROOT}
fmt=$(command -v clang-format-19 || true)
if [ -z "$fmt" ]; then
    echo "check-format: clang-format-19 not found (scripts/install-deps.sh installs it)"
    exit 77
fi
cd "$root" || exit 1
bad=0
checked=0
for f in $(scripts/format-files.sh); do
    checked=$((checked + 1))
    if ! "$fmt" --style=file "$f" | cmp -s - "$f"; then
        echo "not formatted: $f"
        bad=$((bad + 1))
    fi
done
echo "check-format: $checked files, $bad not formatted"
if [ "$bad" -ne 0 ]; then
    echo "fix with: scripts/format-files.sh | xargs clang-format-19 -i"
    exit 1
fi
[ "$checked" -gt 0 ] || { echo "check-format: no files listed"; exit 1; }
