# zsh zsh-complete.zsh FPATH-DIR LINE OUT: types LINE and TAB into an interactive zsh (a pty) whose
# fpath starts with FPATH-DIR; each match the completion offers is appended to OUT, then DONE.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; print -r -l -- $__hits >> '$3'; builtin compadd "$@" }'
zpty -w z "$2"$'\t'
zpty -w z $'\C-e\C-u'"print -r -- DONE >> $3"
for i in {1..600}; do grep -qx DONE $3 2>/dev/null && break; sleep 0.1; done
zpty -d z
