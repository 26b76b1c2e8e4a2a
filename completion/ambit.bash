# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Bash completion for the ambit CLI. Commands, options and their fixed
# values are read from the CLI's own help (`ambit --help`, `ambit COMMAND
# --help`, answered without a daemon), so completion always matches the
# binary being completed. Needs nothing from the bash-completion package.
#   source completion/ambit.bash   (installed: .../bash-completion/completions/ambit)

# The help of the ambit being completed ($1), or of one of its commands.
_ambit_help() { # BIN [COMMAND]
	if [ $# -gt 1 ]; then
		"$1" "$2" --help 2>/dev/null
	else
		"$1" --help 2>&1
	fi
}

# Commands: the "  ambit NAME ..." lines of the usage.
_ambit_commands() { # BIN
	_ambit_help "$1" | awk '$1 == "ambit" && $2 ~ /^[a-z][a-z-]*$/ && !seen[$2]++ { print $2 }'
}

# The usage lines of COMMAND, "ambit " removed: "get services|routes|...
# [-o wide|json|yaml]"; a command may have several ("pod attach ...",
# "pod detach ...").
_ambit_usage_lines() { # BIN COMMAND
	_ambit_help "$1" "$2" | awk '
		NR == 1 && sub(/^Usage: ambit /, "") { print; more = 1; next }
		more && sub(/^[[:space:]]+ambit /, "") { print; next }
		{ more = 0 }'
}

# One usage line split into words: "get", "services|routes|...", "-o",
# "wide|json|yaml". Brackets, ellipses and lone bars are dropped.
_ambit_words() { # LINE
	printf '%s\n' "$1" | tr '[]' '  ' | sed 's/\.\.\.//g' | tr -s ' ' '\n' |
		grep -v '^|$' | grep .
}

# Every word of every usage line of COMMAND.
_ambit_usage_words() { # BIN COMMAND
	local line
	while IFS= read -r line; do
		_ambit_words "$line"
	done < <(_ambit_usage_lines "$1" "$2")
}

# The options of COMMAND: those of its usage line, and those that start a
# line of its help ("  --dry-run   validate...", "  -h, --help ..."), not
# options of other programs its prose mentions.
_ambit_options() { # BIN COMMAND
	{
		_ambit_usage_words "$1" "$2" | tr '|' '\n'
		_ambit_help "$1" "$2" | grep -oE '^[[:space:]]+--?[[:alpha:]][^[:space:]]*(, --?[[:alpha:]][^[:space:]]*)?' |
			tr ',' '\n'
		echo --help
	} | tr -d '[:blank:]' | grep -E '^--?[[:alpha:]][[:alnum:]-]*$' | sort -u
}

# What follows OPTION in the usage: fixed values (wide|json|yaml), "FILE"
# for a file name, or nothing to offer (a placeholder such as NS).
_ambit_option_values() { # BIN COMMAND OPTION
	local words w prev=
	mapfile -t words < <(_ambit_usage_words "$1" "$2")
	for w in "${words[@]}"; do
		if [ "$prev" = "$3" ]; then
			case $w in
			FILE* | PATH*) echo FILE ;;
			*[a-z]*) [[ $w == -* ]] || echo "${w//|/ }" ;;
			esac
			return 0
		fi
		prev=$w
	done
}

# The Nth fixed word after COMMAND (0: "services|routes|..." for get), up
# to the first option, from every usage line of COMMAND.
_ambit_positional() { # BIN COMMAND N
	local line words w i
	while IFS= read -r line; do
		mapfile -t words < <(_ambit_words "$line")
		i=0
		for w in "${words[@]:1}"; do
			case $w in -*) break ;; esac
			if [ "$i" -eq "$3" ]; then
				[[ $w =~ ^[a-z|]+$ ]] && echo "${w//|/ }"
				break
			fi
			i=$((i + 1))
		done
	done < <(_ambit_usage_lines "$1" "$2")
}

_ambit_files() { # CUR: file names, and - for standard input
	local IFS=$'\n'
	# shellcheck disable=SC2207 # one name per line
	COMPREPLY=($(compgen -f -- "$1"))
	[ -n "$1" ] || COMPREPLY+=(-)
	compopt -o filenames 2>/dev/null
}

_ambit() {
	local bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]:-} cmd='' i=1 npos=0 values w
	COMPREPLY=()
	# ambit [--socket PATH] COMMAND ARGS: find the command.
	while [ "$i" -lt "$COMP_CWORD" ]; do
		w=${COMP_WORDS[i]}
		if [ -z "$cmd" ] && [ "$w" = --socket ]; then
			i=$((i + 2))
			continue
		fi
		if [ -z "$cmd" ]; then
			cmd=$w
		elif [[ $w != -* ]] && [[ ${COMP_WORDS[i - 1]} != -* ]]; then
			npos=$((npos + 1)) # a fixed word, not an option's value
		fi
		i=$((i + 1))
	done
	if [ -z "$cmd" ]; then
		if [ "$prev" = --socket ]; then
			_ambit_files "$cur"
		elif [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--socket --help" -- "$cur")
		else
			values=$(_ambit_commands "$bin")
			[ -z "$values" ] || values+=" help"
			mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
		fi
		return 0
	fi
	if [[ $prev == -* ]]; then
		values=$(_ambit_option_values "$bin" "$cmd" "$prev")
		if [ "$values" = FILE ]; then
			_ambit_files "$cur"
			return 0
		fi
		# An option that takes a value we cannot guess (NS, ADDR:PORT).
		if [ -n "$values" ] || _ambit_help "$bin" "$cmd" | grep -qE -- "$prev [A-Z]"; then
			mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
			return 0
		fi
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_ambit_options "$bin" "$cmd")" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -W "$(_ambit_positional "$bin" "$cmd" "$npos")" -- "$cur")
	fi
	return 0
}

complete -F _ambit ambit
