#!/bin/sh
# cmake --install puts the binary, the rule packs, the man page and the
# example config under the prefix, and the installed binary finds its own
# packs without a config.
set -eu
build=$(dirname "$(dirname "$EARSHOT")")
prefix=$EAR_TMP/prefix
rm -rf "$EAR_TMP"
mkdir -p "$EAR_TMP"
cmake --install "$build" --prefix "$prefix" >/dev/null
fail=0
for f in bin/earshot share/man/man1/earshot.1 \
         share/doc/earshot/examples/earshot.yml \
         share/earshot/rules/hu share/earshot/rules/en; do
    [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed" >&2; fail=1; }
done
ls "$prefix"/share/earshot/rules/hu/*.yml >/dev/null 2>&1 ||
    { echo "FAIL: no Hungarian packs installed" >&2; fail=1; }
# From an empty directory with no config: the installed packs load and
# their embedded tests pass.
cd "$EAR_TMP"
HOME=$EAR_TMP XDG_CONFIG_HOME=$EAR_TMP/none "$prefix/bin/earshot" rules test \
    >/dev/null || { echo "FAIL: installed earshot rules test" >&2; fail=1; }
out=$(HOME=$EAR_TMP "$prefix/bin/earshot" rules list --json)
case $out in
    *"$prefix/bin/../share/earshot/rules"*) ;;
    *) echo "FAIL: installed binary did not use the installed packs" >&2; fail=1 ;;
esac
exit $fail
