#!/usr/bin/env bash
# The man pages and the program cannot drift apart:
#  - the commands `hyvm --help` lists are those hyvm.1's COMMANDS lists,
#    and each has its page docs/man/hyvm-CMD.1.scd;
#  - for each command, every option `hyvm CMD --help` prints (--long, or
#    -x as a word) is an item of the page's OPTIONS and every item there
#    is in the --help (-h/--help itself aside: it is run here);
#  - `hyvm help CMD` prints what `hyvm CMD --help` prints.
#   tests/pkg/man-options.sh HYVM DOCS-MAN-DIR
set -u
hyvm=$1 dir=$2
passed=0 failed=0

. "$(dirname "$0")/../lib/verdict.sh"

# Options in free text: --long, or a one-letter -x after a space, [, | or (.
help_options() {
	grep -oE '(^|[][ |(])--?[a-zA-Z][a-zA-Z0-9-]*' | sed -E 's/^[][ |(]//' |
		grep -E '^(--[a-zA-Z][a-zA-Z0-9-]*|-[a-zA-Z])$' | grep -vxE -- '-h|--help' | sort -u
}

# The page's OPTIONS items: lines "*--opt* _ARG_, *-o*" in that section.
page_options() {
	awk '/^# /{ in_opts = ($0 == "# OPTIONS") } in_opts && /^\*-/' "$1" |
		grep -oE '\*--?[a-zA-Z][a-zA-Z0-9-]*\*' | tr -d '*' | grep -vxE -- '-h|--help' | sort -u
}

cmds=$("$hyvm" --help | awk '/^  hyvm / { print $2 }' | sort)
page_cmds=$(awk '/^# /{ in_c = ($0 == "# COMMANDS") } in_c && /^\*[a-z]+\*/' "$dir/hyvm.1.scd" |
	grep -oE '^\*[a-z]+\*' | tr -d '*' | grep -vx help | sort)
verdict "hyvm.1 lists the commands of hyvm --help" \
	"$([[ -n $cmds && $cmds == "$page_cmds" ]] && echo 1)" \
	"hyvm --help: $(echo $cmds); hyvm.1: $(echo $page_cmds)"

for c in $cmds; do
	page=$dir/hyvm-$c.1.scd
	if [[ ! -f $page ]]; then
		verdict "hyvm-$c.1" 0 "no $page"
		continue
	fi
	help=$("$hyvm" "$c" --help 2>&1)
	rc=$?
	verdict "hyvm $c --help exits 0" "$([[ $rc == 0 ]] && echo 1)" "status $rc: $help"
	via=$("$hyvm" help "$c" 2>&1)
	verdict "hyvm help $c == hyvm $c --help" "$([[ $via == "$help" ]] && echo 1)" \
		"they differ"
	in_help=$(help_options <<<"$help")
	in_page=$(page_options "$page")
	only_help=$(comm -23 <(echo "$in_help") <(echo "$in_page") | xargs)
	only_page=$(comm -13 <(echo "$in_help") <(echo "$in_page") | xargs)
	verdict "hyvm $c: --help and hyvm-$c.1 list the same options ($(echo $in_help | wc -w))" \
		"$([[ -z $only_help && -z $only_page ]] && echo 1)" \
		"only in --help: ${only_help:-none}; only in the page: ${only_page:-none}"
done
echo "man-options: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
