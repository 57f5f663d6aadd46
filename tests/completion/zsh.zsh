# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Drives the zsh completion (completion/_leaktrace) in an interactive zsh on a pseudo-terminal:
# each case types WORDS and TAB (completed, or the candidates listed), then prints the line
# as completed; the session's output, escapes removed, goes to stdout.
# Usage: zsh -f tests/completion/zsh.zsh TOP BINDIR CASE...
zmodload zsh/zpty || exit 1
top=$1 bindir=$2
shift 2
zpty z 'zsh -f -i'
zpty -w z "bindkey -e; PS1='> '; fpath=($top/completion \$fpath); path=($bindir \$path)"
zpty -w z "autoload -U compinit; compinit -u -D"
for c in "$@"; do
	zpty -w -n z "$c"$'\t\C-aprint -r -- @\C-e@\n'
done
zpty -w z "print -- EN''D"
zpty -r -m z out '*END*'
zpty -d z
print -r -- "$out" | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' -e 's/\x07//g'
