# okenv shell integration for PowerShell. Load it from $PROFILE with:
#   okenv init powershell | Out-String | Invoke-Expression
# okenv use PROFILE [FLAGS]   switch this session to PROFILE (evaluates `okenv env PROFILE`)
# okenv unset                 remove everything okenv set from this session
# okenv_prompt                "PROFILE 42m", "PROFILE 3h05m" or "PROFILE expired"
# $Env:OKENV_PROMPT = '1' before loading adds "(PROFILE 42m) " to the prompt;
# $Env:OKENV_PROMPT_COLOR = '1' colours the segment (yellow under 10 minutes, red once
# expired). The prompt starts no process. PowerShell drops the first `--` a function is
# given, so the wrapper puts it back after PROFILE in `okenv exec PROFILE -- CMD` (put
# okenv's own flags before PROFILE there: `okenv exec --force PROFILE -- CMD`).

# The okenv that printed this script (not whichever okenv is first on PATH later).
function global:__okenv_command {
    & __OKENV_COMMAND__ @args
}

function global:okenv {
    $verb = if ($args.Count -gt 0) { [string]$args[0] } else { '' }
    # Piped onward (`okenv unset | Out-String | Invoke-Expression`), a change could not reach
    # this session: there the binary answers, as it does for every other command.
    $piped = $MyInvocation.PipelinePosition -lt $MyInvocation.PipelineLength
    $help = ($args -contains '-h') -or ($args -contains '--help')
    if (($verb -eq 'use' -or $verb -eq 'unset') -and -not $piped -and -not $help) {
        $rest = @(if ($args.Count -gt 1) { $args[1..($args.Count - 1)] })
        $sub = if ($verb -eq 'use') { 'env' } else { 'unset' }
        $code = __okenv_command $sub --shell powershell @rest
        if ($LASTEXITCODE -ne 0) { return }
        if ($code) {
            Microsoft.PowerShell.Utility\Invoke-Expression ($code -join [Environment]::NewLine)
        }
        return
    }
    if ($verb -eq 'exec' -and -not ($args -contains '--')) {
        $i = 1
        while ($i -lt $args.Count -and ([string]$args[$i]).StartsWith('-')) { $i++ }
        if ($i -lt $args.Count - 1) {
            $args = @($args[0..$i]) + @('--') + @($args[($i + 1)..($args.Count - 1)])
        }
    }
    __okenv_command @args
}

# Returns the segment; $color adds ANSI colour codes when OKENV_PROMPT_COLOR is set.
function global:__okenv_segment([bool]$color) {
    $name = $Env:OKENV_PROFILE
    $expires = 0L
    if (-not $name -or -not $Env:OKENV_EXPIRES_AT) { return '' }
    if ($Env:OKENV_EXPIRES_AT -notmatch '^[0-9]+$' -or
        -not [long]::TryParse($Env:OKENV_EXPIRES_AT, [ref]$expires)) { return $name }
    # The clock without a process.
    $left = $expires - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $code = ''
    if ($left -le 0) {
        $text = "$name expired"
        $code = '31'
    } elseif ($left -lt 3600) {
        $text = '{0} {1}m' -f $name, [math]::Floor($left / 60)
    } else {
        $text = '{0} {1}h{2:00}m' -f $name, [math]::Floor($left / 3600), ([math]::Floor($left / 60) % 60)
    }
    if ($left -gt 0 -and $left -lt 600) { $code = '33' }
    if ($color -and $code -and $Env:OKENV_PROMPT_COLOR -and $Env:OKENV_PROMPT_COLOR -ne '0') {
        $esc = [char]27
        return "$esc[${code}m$text$esc[0m"
    }
    return $text
}

function global:okenv_prompt {
    __okenv_segment $true
}

# OKENV_PROMPT=1: wrap the current prompt function.
if ($Env:OKENV_PROMPT -eq '1' -and -not (Test-Path Function:\__okenv_user_prompt)) {
    Set-Item -Path Function:\global:__okenv_user_prompt -Value $Function:prompt
    function global:prompt {
        $segment = __okenv_segment $true
        $(if ($segment) { "($segment) " }) + (__okenv_user_prompt)
    }
}

# $Env:OKENV_AUTO_REFRESH = '1' before loading: before each prompt, once the active
# credentials are within 5 minutes of their expiry, `okenv use PROFILE` renews them (asking,
# if the login must). Until then this is arithmetic, no process; a failed renewal is shown
# once (until the profile or its expiry changes).
function global:__okenv_refresh {
    $expires = 0L
    if (-not $Env:OKENV_PROFILE -or -not $Env:AWS_ACCESS_KEY_ID) { return }
    if ($Env:OKENV_EXPIRES_AT -notmatch '^[0-9]+$' -or
        -not [long]::TryParse($Env:OKENV_EXPIRES_AT, [ref]$expires)) { return }
    if ($expires - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() -gt 300) { return }
    $due = "$Env:OKENV_PROFILE $Env:OKENV_EXPIRES_AT"
    if ($global:__okenv_refresh_failed -eq $due) { return }
    okenv use $Env:OKENV_PROFILE
    if ($LASTEXITCODE -ne 0) { $global:__okenv_refresh_failed = $due }
}

if ($Env:OKENV_AUTO_REFRESH -eq '1' -and -not (Test-Path Function:\__okenv_refresh_prompt)) {
    Set-Item -Path Function:\global:__okenv_refresh_prompt -Value $Function:prompt
    function global:prompt {
        $status = $global:LASTEXITCODE
        __okenv_refresh
        $global:LASTEXITCODE = $status
        __okenv_refresh_prompt
    }
}
