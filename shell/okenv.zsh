# okenv shell integration for zsh. Load it from ~/.zshrc with:
#   eval "$(okenv init zsh)"
# okenv use PROFILE [FLAGS]   switch this shell to PROFILE (evaluates `okenv env PROFILE`)
# okenv unset                 remove everything okenv set from this shell
# okenv_prompt                print "PROFILE 42m", "PROFILE 3h05m" or "PROFILE expired"
# OKENV_PROMPT=1 before loading adds "(PROFILE 42m) " to PROMPT; OKENV_PROMPT_COLOR=1 colours
# the segment (yellow under 10 minutes, red once expired). The prompt starts no process.

# The okenv that printed this script (not whichever okenv is first on PATH later).
__okenv_command() {
  command __OKENV_COMMAND__ "$@"
}

okenv() {
  \builtin emulate -L zsh
  \builtin local __okenv_code __okenv_word
  # In a subshell whose output is captured (`eval "$(okenv unset)"`), a change could not
  # reach this shell: there the binary answers, as it does for every other command.
  if [[ ($1 == use || $1 == unset) && ($ZSH_SUBSHELL -eq 0 || -t 1) ]]; then
    for __okenv_word in "$@"; do
      if [[ $__okenv_word == (-h|--help) ]]; then
        __okenv_command "$@"
        \builtin return
      fi
    done
    if [[ $1 == use ]]; then
      __okenv_code=$(__okenv_command env --shell zsh "${@[2,-1]}") || \builtin return
    else
      __okenv_code=$(__okenv_command unset --shell zsh "${@[2,-1]}") || \builtin return
    fi
    \builtin eval "$__okenv_code"
    \builtin return
  fi
  __okenv_command "$@"
}

# The clock without a process: $EPOCHSECONDS from the zsh/datetime module.
\builtin zmodload zsh/datetime 2>/dev/null || :

# Sets the caller's __okenv_seg; $1 = 1 is for PROMPT: control characters become ?, % is
# escaped and colour codes are wrapped in %{..%}.
__okenv_segment() {
  \builtin emulate -L zsh
  \builtin local -i __okenv_now __okenv_left
  \builtin local __okenv_colour= __okenv_name=${OKENV_PROFILE-}
  __okenv_seg=
  [[ -n $__okenv_name && -n ${OKENV_EXPIRES_AT-} ]] || \builtin return 0
  if [[ $1 == 1 ]]; then
    __okenv_name=${__okenv_name//[[:cntrl:]]/?}
    __okenv_name=${__okenv_name//\%/%%}
  fi
  if [[ $OKENV_EXPIRES_AT != <-> ]]; then
    __okenv_seg=$__okenv_name
    \builtin return 0
  fi
  if (( ${+EPOCHSECONDS} )); then
    __okenv_now=$EPOCHSECONDS
  else
    __okenv_now=$(command date +%s)
  fi
  __okenv_left=$((10#$OKENV_EXPIRES_AT - __okenv_now))
  if ((__okenv_left <= 0)); then
    __okenv_seg="$__okenv_name expired"
    __okenv_colour=31
  elif ((__okenv_left < 3600)); then
    __okenv_seg="$__okenv_name $((__okenv_left / 60))m"
  else
    \builtin printf -v __okenv_seg '%s %dh%02dm' "$__okenv_name" \
      $((__okenv_left / 3600)) $((__okenv_left / 60 % 60))
  fi
  if ((__okenv_left > 0 && __okenv_left < 600)); then
    __okenv_colour=33
  fi
  if [[ $1 == 1 && -n $__okenv_colour && ${OKENV_PROMPT_COLOR:-0} != 0 ]]; then
    __okenv_seg=$'%{\e['$__okenv_colour$'m%}'$__okenv_seg$'%{\e[0m%}'
  fi
}

# Plain text; with OKENV_PROMPT_COLOR=1 it is meant for PROMPT (%-escaped, %{..%} wrapped).
okenv_prompt() {
  \builtin local __okenv_seg
  if [[ ${OKENV_PROMPT_COLOR:-0} != 0 ]]; then
    __okenv_segment 1
  else
    __okenv_segment 0
  fi
  [[ -z $__okenv_seg ]] || \builtin printf '%s' "$__okenv_seg"
}

# OKENV_PROMPT=1: a precmd hook puts "(PROFILE 42m) " in front of PROMPT. With prompt_subst
# PROMPT refers to $__okenv_ps1 (an expansion's result is not expanded again); without it
# the hook replaces the text it added last time. That text must stay inert if a theme turns
# prompt_subst on later: $ is followed by an empty %{%} (so no $(..), ${..}, $[..] or $name
# forms; it still shows as $), and ` and \ become ?.
__okenv_precmd() {
  \builtin local __okenv_subst=0 __okenv_seg
  [[ -o promptsubst ]] && __okenv_subst=1
  \builtin emulate -L zsh
  __okenv_segment 1
  PROMPT=${PROMPT#"${__okenv_ps1_added-}"}
  typeset -g __okenv_ps1_added=
  if ((__okenv_subst)); then
    typeset -g __okenv_ps1=${__okenv_seg:+($__okenv_seg) }
    [[ $PROMPT == *'${__okenv_ps1}'* ]] || PROMPT='${__okenv_ps1}'$PROMPT
  else
    __okenv_seg=${__okenv_seg//[\`\\]/?}
    __okenv_seg=${__okenv_seg//\$/\$%\{%\}}
    __okenv_ps1_added=${__okenv_seg:+($__okenv_seg) }
    PROMPT=$__okenv_ps1_added$PROMPT
  fi
}

if [[ ${OKENV_PROMPT-} == 1 ]]; then
  \builtin typeset -ga precmd_functions
  ((${precmd_functions[(I)__okenv_precmd]})) || precmd_functions+=(__okenv_precmd)
fi
