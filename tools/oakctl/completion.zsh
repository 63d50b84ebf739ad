#compdef oakctl
# zsh completion for oakctl: source <(oakctl completion zsh), or save it as
# _oakctl in a directory of $fpath
_oakctl_names() { # the first column of 'oakctl get WHAT', header left out
	local -a names
	names=(${(f)"$(oakctl get $1 2>/dev/null | awk 'NR > 1 {print $1}')"})
	compadd -a names
}
_oakctl() {
	local curcontext=$curcontext state line
	typeset -A opt_args
	_arguments -C \
		'--root[the root REST API]:url:' \
		'--user[user name]:user:' \
		'--config[config file]:file:_files' \
		'--json[the same as -o json]' \
		'(-o --output)'{-o,--output}'[output of get]:format:(table wide json yaml)' \
		'--wait[wait until every instance is RUNNING]' \
		'--timeout[give up waiting after S seconds]:seconds:' \
		'--grace[how long an instance may stay failed]:seconds:' \
		'--interval[poll interval]:seconds:' \
		'--file[the SLA]:file:_files' \
		'-f[the SLA (apply, delete); follow (logs)]::file:_files' \
		'--follow[logs: keep printing new lines]' \
		'--node[dp: the node id]:node:' \
		'--password-stdin[login: read the password from stdin]' \
		'(-v --verbose)'{-v,--verbose}'[show the HTTP exchanges]' \
		'(-h --help)'{-h,--help}'[help]' \
		'1:command:((login\:"log in" apply\:"register and deploy an SLA" get\:"list resources" scale\:"set the instance count of a service" delete\:"delete an application, service or instance" logs\:"the logs of an instance" dp\:"this machine'"'"'s node datapath" completion\:"a shell completion script"))' \
		'*::arg:->args'
	[ "$state" = args ] || return
	case $words[1]:$CURRENT in
	get:2) compadd apps services instances clusters nodes ;;
	get:3)
		case $words[2] in
		services) _oakctl_names apps ;;
		instances) _oakctl_names services ;;
		esac
		;;
	delete:2) compadd app service instance ;;
	delete:3)
		case $words[2] in
		app) _oakctl_names apps ;;
		*) _oakctl_names services ;;
		esac
		;;
	scale:2 | logs:2) _oakctl_names services ;;
	completion:2) compadd bash zsh ;;
	esac
}
if [ "$funcstack[1]" = _oakctl ]; then
	_oakctl "$@"
else
	compdef _oakctl oakctl
fi
