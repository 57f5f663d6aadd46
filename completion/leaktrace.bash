# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bash completion for leaktrace and leak-sweep. The options, the ones that take a value and
# the formats are read from `leaktrace --help` (the format table's rows), so that they follow
# the binary completed; values by the name help gives them (PID, FMT, FILE, NAME, ...).

# The options of HELP_TEXT's option lines (at most 6 spaces, then a dash), each with its
# value's name after a tab when it takes one (the line's first word that is no option, in
# capitals): "--pid<TAB>PID", "--listen<TAB>ADDR:PORT".
_leaktrace_options()
{
	local line word arg
	while IFS= read -r line; do
		[[ $line =~ ^\ {1,6}(-.*) ]] || continue
		line=${BASH_REMATCH[1]%%  *}
		line=${line//,/}
		arg=
		for word in $line; do
			[[ $word == -* ]] && continue
			[[ $word =~ ^[A-Z][A-Z_:]*$ ]] && arg=$word
			break
		done
		for word in $line; do
			[[ $word == -?* && $word != -- && $word != *[![:alnum:]=[\]-]* ]] || continue
			word=${word%%[[=]*}
			printf '%s%s\n' "$word" "${arg:+$'\t'$arg}"
		done
	done
}

# The commands --help names as "(leaktrace NAME --help)": report, agent, ...
_leaktrace_commands()
{
	sed -nE 's/.*\(leaktrace ([a-z]+) --help\).*/\1/p'
}

# The formats of leaktrace's table: "   json    .json   snapshot ..." rows of --help.
_leaktrace_formats()
{
	"$1" --help 2>/dev/null | sed -nE 's/^ {20,}([a-z]+) +\.[a-z.]+ .*/\1/p'
}

_leaktrace_pids()
{
	local p
	for p in /proc/[0-9]*; do
		printf '%s\n' "${p#/proc/}"
	done
}

_leaktrace_comms()
{
	cat /proc/[0-9]*/comm 2>/dev/null | sort -u
}

# COMPREPLY for the value of option OPT, whose name in the help is ARG.
_leaktrace_value()
{
	local bin=$1 opt=$2 arg=$3 cur=$4 IFS=$'\n'
	case "$opt:$arg" in
	*:PID) COMPREPLY=($(compgen -W "$(_leaktrace_pids)" -- "$cur")) ;;
	*:FMT) COMPREPLY=($(compgen -W "$(_leaktrace_formats "$bin")" -- "$cur")) ;;
	--unwind:*) COMPREPLY=($(compgen -W $'auto\ndwarf\nfp' -- "$cur")) ;;
	--leak-kinds:*) COMPREPLY=($(compgen -W $'definite\nindirect\npossible\nall' -- "$cur")) ;;
	--comm:* | --exclude-comm:*) COMPREPLY=($(compgen -W "$(_leaktrace_comms)" -- "$cur")) ;;
	*:DIR | *:OUTDIR) COMPREPLY=($(compgen -d -- "$cur")) ;;
	*:FILE | *:PATH | *:HOSTFILE | *:LEAKTRACE) COMPREPLY=($(compgen -f -- "$cur")) ;;
	*) COMPREPLY=() ;;
	esac
}

# Completes word CWORD of WORDS for a command whose --help is HELP_TEXT; ARGS is what a
# word that is no option completes to: "files" (snapshots) or "none".
_leaktrace_complete()
{
	local bin=$1 help=$2 args=$3 cur=${COMP_WORDS[COMP_CWORD]} prev i opts o
	local -A takes=()

	opts=$(_leaktrace_options <<<"$help")
	while IFS=$'\t' read -r o arg; do
		[ -n "$arg" ] && takes[$o]=$arg
	done <<<"$opts"
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [ "$COMP_CWORD" -gt "$4" ] && [ -n "${takes[$prev]-}" ]; then
		_leaktrace_value "$bin" "$prev" "${takes[$prev]}" "$cur"
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(cut -f1 <<<"$opts" | sort -u)" -- "$cur"))
	elif [ "$args" = files ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

_leaktrace()
{
	local bin=${COMP_WORDS[0]} i help commands IFS=$' \t\n'

	COMPREPLY=()
	# After --: the command to run, then its own arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			if [ $((i + 1)) -eq "$COMP_CWORD" ]; then
				COMPREPLY=($(compgen -c -- "${COMP_WORDS[COMP_CWORD]}" | sort -u))
			elif declare -F _command_offset >/dev/null; then
				_command_offset $((i + 1)) # bash-completion's, when loaded
			else
				COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
			fi
			return
		fi
	done
	help=$("$bin" --help 2>/dev/null)
	commands=$(_leaktrace_commands <<<"$help")
	# report has options of its own; another command (agent) takes trace mode's too.
	if [ "$COMP_CWORD" -gt 1 ] && [ "${COMP_WORDS[1]}" = report ]; then
		_leaktrace_complete "$bin" "$("$bin" report --help 2>/dev/null)" files 2
		return
	elif [ "$COMP_CWORD" -gt 1 ] && grep -qx -- "${COMP_WORDS[1]}" <<<"$commands"; then
		_leaktrace_complete "$bin" "$("$bin" "${COMP_WORDS[1]}" --help 2>/dev/null)
$help" none 2
		return
	fi
	_leaktrace_complete "$bin" "$help" none 1
	# The commands, in the first place.
	if [ "$COMP_CWORD" -eq 1 ] && [[ ${COMP_WORDS[1]} != -* ]]; then
		COMPREPLY+=($(compgen -W "$commands" -- "${COMP_WORDS[1]}"))
	fi
}

_leak_sweep()
{
	local bin=${COMP_WORDS[0]} i IFS=$' \t\n'

	COMPREPLY=()
	# After --: leaktrace's options.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			local lt
			lt=$(command -v leaktrace || echo "$(dirname "$(command -v "$bin")")/../leaktrace")
			_leaktrace_complete "$lt" "$("$lt" --help 2>/dev/null)" none $((i + 1))
			return
		fi
	done
	_leaktrace_complete "$bin" "$("$bin" --help 2>/dev/null)" none 1
	# Hosts: those of ~/.ssh/known_hosts would do; leave them to the user.
}

complete -F _leaktrace leaktrace
complete -F _leak_sweep leak-sweep
