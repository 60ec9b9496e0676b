# okenv shell integration for fish. Load it from ~/.config/fish/config.fish with:
#   okenv init fish | source
# okenv use PROFILE [FLAGS]   switch this shell to PROFILE (evaluates `okenv env PROFILE`)
# okenv unset                 remove everything okenv set from this shell
# okenv_prompt                print "PROFILE 42m", "PROFILE 3h05m" or "PROFILE expired"
# OKENV_PROMPT=1 before loading adds "(PROFILE 42m) " to fish_prompt; OKENV_PROMPT_COLOR=1
# colours the segment (yellow under 10 minutes, red once expired). The prompt starts no
# process on fish >= 3.5.

# The okenv that printed this script (not whichever okenv is first on PATH later).
function __okenv_command
    command __OKENV_COMMAND__ $argv
end

function okenv --description 'okenv; `okenv use` and `okenv unset` change this shell'
    # In a command substitution (`okenv unset | source` is fine, `eval (okenv unset)` too) a
    # change could not reach this shell: there the binary answers, as for every other command.
    if contains -- "$argv[1]" use unset; and not status is-command-substitution
        if contains -- -h $argv; or contains -- --help $argv
            __okenv_command $argv
            return
        end
        set -l __okenv_verb unset
        test "$argv[1]" = use; and set __okenv_verb env
        set -l __okenv_code (__okenv_command $__okenv_verb --shell fish $argv[2..-1])
        or return
        builtin printf '%s\n' $__okenv_code | builtin source
        return
    end
    __okenv_command $argv
end

# The clock without a process. fish has no clock builtin, but `path mtime` (fish >= 3.5)
# reads one: the mtime of / plus its age (`--relative`) is now, in epoch seconds.
function __okenv_now
    if builtin -q path
        math (builtin path mtime /) + (builtin path mtime --relative /)
    else
        command date +%s
    end
end

# Prints the segment; $argv[1] = 1 adds set_color codes when OKENV_PROMPT_COLOR is set.
function __okenv_segment
    test -n "$OKENV_PROFILE"; and test -n "$OKENV_EXPIRES_AT"; or return 0
    if not string match -qr '^[0-9]+$' -- $OKENV_EXPIRES_AT
        builtin printf '%s' $OKENV_PROFILE
        return 0
    end
    set -l left (math $OKENV_EXPIRES_AT - (__okenv_now))
    set -l text
    set -l colour
    if test $left -le 0
        set text "$OKENV_PROFILE expired"
        set colour red
    else if test $left -lt 3600
        set text "$OKENV_PROFILE "(math "floor($left / 60)")m
    else
        set text (builtin printf '%s %dh%02dm' $OKENV_PROFILE (math "floor($left / 3600)") \
            (math "floor($left / 60) % 60"))
    end
    test $left -gt 0; and test $left -lt 600; and set colour yellow
    if test "$argv[1]" = 1; and test -n "$colour"; and test "$OKENV_PROMPT_COLOR" != 0
        and test -n "$OKENV_PROMPT_COLOR"
        builtin printf '%s%s%s' (set_color $colour) $text (set_color normal)
    else
        builtin printf '%s' $text
    end
end

function okenv_prompt --description 'okenv profile and remaining time, for a prompt'
    __okenv_segment 1
end

# OKENV_PROMPT=1: wrap the current fish_prompt, keeping the $status it shows.
function __okenv_return
    return $argv[1]
end

if test "$OKENV_PROMPT" = 1; and functions -q fish_prompt; and not functions -q __okenv_user_prompt
    functions --copy fish_prompt __okenv_user_prompt
    function fish_prompt
        set -l __okenv_status $status
        set -l __okenv_seg (__okenv_segment 1)
        test -n "$__okenv_seg"; and builtin printf '(%s) ' $__okenv_seg
        __okenv_return $__okenv_status
        __okenv_user_prompt
    end
end

# OKENV_AUTO_REFRESH=1 before loading: before each command, once the active credentials are
# within 5 minutes of their expiry, `okenv use PROFILE` renews them (asking, if the login
# must). Until then this is arithmetic, no process (fish >= 3.5); never in a command
# substitution; a failed renewal is shown once (until the profile or its expiry changes).
if test "$OKENV_AUTO_REFRESH" = 1
    function __okenv_refresh --on-event fish_preexec
        status is-command-substitution; and return
        set -q __okenv_refreshing; and return
        test -n "$OKENV_PROFILE"; and test -n "$AWS_ACCESS_KEY_ID"; or return
        string match -qr '^[0-9]{1,14}$' -- "$OKENV_EXPIRES_AT"; or return
        string match -q 'okenv *' -- "$argv[1]"; and return # the user's own okenv comes first
        test (math $OKENV_EXPIRES_AT - (__okenv_now)) -le 300; or return
        set -l due "$OKENV_PROFILE $OKENV_EXPIRES_AT"
        test "$__okenv_refresh_failed" = "$due"; and return
        set -g __okenv_refreshing 1
        okenv use $OKENV_PROFILE; or set -g __okenv_refresh_failed $due
        set -e __okenv_refreshing
    end
end
