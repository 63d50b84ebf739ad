# bash completion for oakctl: source <(oakctl completion bash)
_oakctl_names() { # the first column of 'oakctl get WHAT', header left out
	oakctl get "$1" 2>/dev/null | awk 'NR > 1 {print $1}'
}
_oakctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local opts="--root --user --config --json --output --wait --timeout --grace --interval
		--file --follow --node --password-stdin --verbose --help"
	local i cmd= nargs=0
	COMPREPLY=()
	case $prev in
	-o | --output)
		COMPREPLY=($(compgen -W "table wide json yaml" -- "$cur"))
		return
		;;
	--file | --config)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--root | --user | --timeout | --grace | --interval | --node) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# the command word: the first word that is neither an option nor its value
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-o | --output | --file | --config | --root | --user | --timeout | --grace | \
			--interval | --node) ((i++)) ;;
		-f) [ "$cmd" != logs ] && ((i++)) ;;
		-*) ;;
		*) if [ -z "$cmd" ]; then cmd=${COMP_WORDS[i]}; else ((nargs++)); fi ;;
		esac
	done
	[ "$prev" = -f ] && [ "$cmd" != logs ] && {
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	}
	case $cmd,$nargs in
	,0) COMPREPLY=($(compgen -W "login apply get scale delete logs dp completion" -- "$cur")) ;;
	get,0) COMPREPLY=($(compgen -W "apps services instances clusters nodes" -- "$cur")) ;;
	get,1)
		case ${COMP_WORDS[COMP_CWORD - 1]} in
		services) COMPREPLY=($(compgen -W "$(_oakctl_names apps)" -- "$cur")) ;;
		instances) COMPREPLY=($(compgen -W "$(_oakctl_names services)" -- "$cur")) ;;
		esac
		;;
	delete,0) COMPREPLY=($(compgen -W "app service instance" -- "$cur")) ;;
	delete,1)
		case $prev in
		app) COMPREPLY=($(compgen -W "$(_oakctl_names apps)" -- "$cur")) ;;
		service | instance) COMPREPLY=($(compgen -W "$(_oakctl_names services)" -- "$cur")) ;;
		esac
		;;
	scale,0 | logs,0) COMPREPLY=($(compgen -W "$(_oakctl_names services)" -- "$cur")) ;;
	completion,0) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
	esac
}
complete -F _oakctl oakctl
