# okenv shell integration for bash. Load it from ~/.bashrc with:
#   eval "$(okenv init bash)"
# okenv use PROFILE [FLAGS]   switch this shell to PROFILE (evaluates `okenv env PROFILE`)
# okenv unset                 remove everything okenv set from this shell
# okenv_prompt                print "PROFILE 42m", "PROFILE 3h05m" or "PROFILE expired"
# OKENV_PROMPT=1 before loading adds "(PROFILE 42m) " to PS1; OKENV_PROMPT_COLOR=1 colours
# the segment (yellow under 10 minutes, red once expired). The prompt starts no process.

# The okenv that printed this script (not whichever okenv is first on PATH later).
__okenv_command() {
  command __OKENV_COMMAND__ "$@"
}

okenv() {
  \builtin local __okenv_code __okenv_word
  # In a subshell whose output is captured (`eval "$(okenv unset)"`), a change could not
  # reach this shell: there the binary answers, as it does for every other command.
  if [[ (${1-} == use || ${1-} == unset) && (${BASH_SUBSHELL:-0} -eq 0 || -t 1) ]]; then
    for __okenv_word in "$@"; do
      if [[ $__okenv_word == -h || $__okenv_word == --help ]]; then
        __okenv_command "$@"
        \builtin return
      fi
    done
    if [[ $1 == use ]]; then
      __okenv_code=$(__okenv_command env --shell bash "${@:2}") || \builtin return
    else
      __okenv_code=$(__okenv_command unset --shell bash "${@:2}") || \builtin return
    fi
    \builtin eval "$__okenv_code"
    \builtin return
  fi
  __okenv_command "$@"
}

# Sets the caller's __okenv_now to the epoch seconds. The clock without a process: bash 5
# has $EPOCHSECONDS, bash 4.2+ printf's %(%s)T.
__okenv_clock() {
  if [[ -n ${EPOCHSECONDS-} ]]; then
    __okenv_now=$EPOCHSECONDS
  elif ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))); then
    \builtin printf -v __okenv_now '%(%s)T' -1
  else
    __okenv_now=$(command date +%s)
  fi
}

# Sets the caller's __okenv_seg; $1 = 1 adds colour codes wrapped in \001..\002 for PS1.
__okenv_segment() {
  \builtin local __okenv_now __okenv_left __okenv_colour=
  __okenv_seg=
  [[ -n ${OKENV_PROFILE-} && -n ${OKENV_EXPIRES_AT-} ]] || \builtin return 0
  if [[ $OKENV_EXPIRES_AT == *[!0-9]* ]]; then
    __okenv_seg=$OKENV_PROFILE
    \builtin return 0
  fi
  __okenv_clock
  __okenv_left=$((10#$OKENV_EXPIRES_AT - __okenv_now))
  if ((__okenv_left <= 0)); then
    __okenv_seg="$OKENV_PROFILE expired"
    __okenv_colour=31
  elif ((__okenv_left < 3600)); then
    __okenv_seg="$OKENV_PROFILE $((__okenv_left / 60))m"
  else
    \builtin printf -v __okenv_seg '%s %dh%02dm' "$OKENV_PROFILE" \
      $((__okenv_left / 3600)) $((__okenv_left / 60 % 60))
  fi
  if ((__okenv_left > 0 && __okenv_left < 600)); then
    __okenv_colour=33
  fi
  if [[ ${1-} == 1 && -n $__okenv_colour && ${OKENV_PROMPT_COLOR:-0} != 0 ]]; then
    __okenv_seg=$'\001\e['$__okenv_colour$'m\002'$__okenv_seg$'\001\e[0m\002'
  fi
}

okenv_prompt() {
  \builtin local __okenv_seg
  __okenv_segment 1
  [[ -z $__okenv_seg ]] || \builtin printf '%s' "$__okenv_seg"
}

# OKENV_PROMPT=1: PROMPT_COMMAND fills $__okenv_ps1 and PS1 refers to it (no $(...) in PS1).
__okenv_prompt_hook() {
  \builtin local __okenv_status=$? __okenv_seg
  __okenv_segment 1
  __okenv_ps1=${__okenv_seg:+($__okenv_seg) }
  # shellcheck disable=SC2016 # PS1 expands it at each prompt
  [[ ${PS1-} == *'${__okenv_ps1}'* ]] || PS1='${__okenv_ps1}'${PS1-}
  \builtin return "$__okenv_status"
}

if [[ ${OKENV_PROMPT-} == 1 && ${PROMPT_COMMAND-} != *__okenv_prompt_hook* ]]; then
  PROMPT_COMMAND=${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}__okenv_prompt_hook
fi

# OKENV_AUTO_REFRESH=1 before loading: before each command, once the active credentials are
# within 5 minutes of their expiry, `okenv use PROFILE` renews them (asking, if the login
# must). Until then this is arithmetic, no process; never in a subshell; a failed renewal
# is shown once (until the profile or its expiry changes).
__okenv_refresh() {
  \builtin local __okenv_now __okenv_due
  [[ ${BASH_SUBSHELL:-0} -eq 0 && -z ${__okenv_refreshing-} && -n ${OKENV_PROFILE-} ]] ||
    \builtin return 0
  [[ -n ${AWS_ACCESS_KEY_ID-} && -n ${OKENV_EXPIRES_AT-} && $OKENV_EXPIRES_AT != *[!0-9]* ]] ||
    \builtin return 0
  [[ ${BASH_COMMAND-} != okenv\ * ]] || \builtin return 0 # the user's own okenv comes first
  __okenv_clock
  ((${#OKENV_EXPIRES_AT} < 15 && 10#$OKENV_EXPIRES_AT - __okenv_now <= 300)) || \builtin return 0
  __okenv_due="$OKENV_PROFILE $OKENV_EXPIRES_AT"
  [[ ${__okenv_refresh_failed-} != "$__okenv_due" ]] || \builtin return 0
  __okenv_refreshing=1
  okenv use "$OKENV_PROFILE" || __okenv_refresh_failed=$__okenv_due
  __okenv_refreshing=
}

__okenv_refresh_hook() {
  \builtin local __okenv_status=$?
  __okenv_refresh
  \builtin return "$__okenv_status"
}

# Before each command: bash-preexec's preexec_functions if it is loaded, else a DEBUG trap
# unless one is set already, else (after each command) PROMPT_COMMAND.
if [[ ${OKENV_AUTO_REFRESH-} == 1 ]]; then
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    [[ " ${preexec_functions[*]-} " == *" __okenv_refresh "* ]] ||
      preexec_functions+=(__okenv_refresh)
  elif [[ -z $(\builtin trap -p DEBUG) ]]; then
    \builtin trap __okenv_refresh DEBUG
  elif [[ ${PROMPT_COMMAND-} != *__okenv_refresh_hook* ]]; then
    PROMPT_COMMAND=${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}__okenv_refresh_hook
  fi
fi
